import "server-only";
import { open } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { FileStore } from "@tus/file-store";
import { S3Store } from "@tus/s3-store";
import type { DataStore } from "@tus/utils";
import { type S3Storage, s3Config, sendContentMd5 } from "@/lib/attachments/s3-config";
import { env } from "@/lib/env.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;

export type UploadStore = DataStore & { read(id: string): Readable | Promise<Readable> };

class CompatibleS3Store extends S3Store {
  constructor(storage: S3Storage, expirationPeriodInMilliseconds: number) {
    super({
      // Tags are optional in S3 and missing from several compatible stores; expiry is swept by the worker instead.
      useTags: false,
      expirationPeriodInMilliseconds,
      s3ClientConfig: { ...s3Config(storage), bucket: storage.bucket },
    });
    sendContentMd5(this.client);
  }

  // tus's remove cancels the multipart upload first, which a finished upload no longer has, and then stops before
  // deleting its objects; nor does it delete the unfinished part.
  override async remove(id: string): Promise<void> {
    await super.remove(id).catch((error: { status_code?: number }) => {
      if (error?.status_code !== 404) throw error;
    });
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }] },
    });
    await this.clearCache(id);
  }
}

function createUploadStore(): UploadStore {
  const expirationPeriodInMilliseconds = env.UPLOAD_EXPIRY_DAYS * DAY_MS;
  const storage = env.storage;
  if (storage.kind === "s3") {
    return new CompatibleS3Store(storage, expirationPeriodInMilliseconds);
  }
  return new FileStore({ directory: path.join(env.dataDir, "uploads"), expirationPeriodInMilliseconds });
}

/** Unfinished and finished tus uploads, before the worker has processed them. */
export const uploadStore: UploadStore = createUploadStore();

/** Makes a finished upload's bytes durable before it is called received (a file store's writes are not synced). */
export async function syncUpload(id: string): Promise<void> {
  if (!(uploadStore instanceof FileStore)) return;
  const handle = await open(path.join(uploadStore.directory, id), "r");
  await handle.sync().finally(() => handle.close());
}

/** Up to `bytes` of the upload's start, or all of it. */
export async function readUpload(id: string, bytes = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = await uploadStore.read(id);
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= bytes) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}
