import "server-only";
import { open } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { FileStore } from "@tus/file-store";
import { S3Store } from "@tus/s3-store";
import type { DataStore } from "@tus/server";
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

  async listIds(): Promise<string[]> {
    const ids: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.listObjectsV2({ Bucket: this.bucket, ContinuationToken });
      for (const { Key } of page.Contents ?? []) if (Key?.endsWith(".info")) ids.push(Key.slice(0, -".info".length));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return ids;
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

/**
 * The start of a finished upload, for sniffing; on a file store the file is made durable in the same open (its writes
 * are not synced), before the attachment is called received.
 */
export async function readUploadStart(id: string, bytes: number): Promise<Buffer> {
  if (!(uploadStore instanceof FileStore)) return readUpload(id, bytes);
  const handle = await open(path.join(uploadStore.directory, id), "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
    await handle.sync();
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The id of every upload the store holds, finished or not. */
export async function listUploadIds(): Promise<string[]> {
  if (uploadStore instanceof CompatibleS3Store) return uploadStore.listIds();
  return (await (uploadStore as FileStore).configstore.list?.()) ?? [];
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
