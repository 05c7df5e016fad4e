import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { FileStore } from "@tus/file-store";
import { S3Store } from "@tus/s3-store";
import type { DataStore } from "@tus/utils";
import { env } from "@/lib/env.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where a stored file's bytes are read from: its SHA-256 names it, so it never changes once written. */
export type StoredFile = { size: number; stream(): Promise<Readable> };

/** Files kept under the SHA-256 of their bytes: identical files are kept once, whoever sent them. */
export type ContentStore = {
  put(bytes: Buffer): Promise<string>;
  get(sha256: string): Promise<StoredFile | null>;
};

export function sha256Of(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The SHA-256 of what is stored under `sha256` now, read back from the store. */
export async function rehash(store: ContentStore, sha256: string): Promise<string | null> {
  const file = await store.get(sha256);
  if (!file) return null;
  const hash = createHash("sha256");
  for await (const chunk of await file.stream()) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function diskContentStore(dir: string): ContentStore {
  const fileOf = (sha256: string) => path.join(dir, sha256.slice(0, 2), sha256);
  const exists = (file: string) =>
    stat(file).then(
      (found) => found.size,
      () => null,
    );
  return {
    async put(bytes) {
      const sha256 = sha256Of(bytes);
      const file = fileOf(sha256);
      if ((await exists(file)) === bytes.length) return sha256;
      // Written whole or not at all: a crash leaves a temp file, never a short file under a hash.
      await mkdir(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${randomUUID()}.tmp`);
      const handle = await open(temp, "w");
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file).catch(async (error) => {
        await rm(temp, { force: true });
        throw error;
      });
      const folder = await open(path.dirname(file), "r");
      await folder.sync().finally(() => folder.close());
      return sha256;
    },
    async get(sha256) {
      const file = fileOf(sha256);
      const size = await exists(file);
      return size === null ? null : { size, stream: async () => createReadStream(file) };
    },
  };
}

function s3Config(storage: Extract<typeof env.storage, { kind: "s3" }>): S3ClientConfig {
  return {
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
    // Checksums only where S3 requires them: S3-compatible stores (Swift, Ceph) refuse the newer trailing ones.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

function s3ContentStore(storage: Extract<typeof env.storage, { kind: "s3" }>): ContentStore {
  const client = new S3Client(s3Config(storage));
  const key = (sha256: string) => `files/${sha256}`;
  const head = (sha256: string) =>
    client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key(sha256) })).then(
      (found) => found.ContentLength ?? 0,
      (error: { $metadata?: { httpStatusCode?: number } }) => {
        if (error.$metadata?.httpStatusCode === 404) return null;
        throw error;
      },
    );
  return {
    async put(bytes) {
      const sha256 = sha256Of(bytes);
      if ((await head(sha256)) === bytes.length) return sha256;
      await client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: key(sha256), Body: bytes }));
      return sha256;
    },
    async get(sha256) {
      const size = await head(sha256);
      if (size === null) return null;
      return {
        size,
        stream: async () => {
          const object = await client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key(sha256) }));
          return object.Body as Readable;
        },
      };
    },
  };
}

export type UploadStore = DataStore & { read(id: string): Readable | Promise<Readable> };

function createUploadStore(): UploadStore {
  const expirationPeriodInMilliseconds = env.UPLOAD_EXPIRY_DAYS * DAY_MS;
  const storage = env.storage;
  if (storage.kind === "s3") {
    return new S3Store({
      // Tags are optional in S3 and missing from several compatible stores; expiry is swept by the worker instead.
      useTags: false,
      expirationPeriodInMilliseconds,
      s3ClientConfig: { ...s3Config(storage), bucket: storage.bucket },
    });
  }
  return new FileStore({ directory: path.join(env.dataDir, "uploads"), expirationPeriodInMilliseconds });
}

/** Unfinished and finished tus uploads, before the worker has processed them. */
export const uploadStore: UploadStore = createUploadStore();

export const contentStore: ContentStore =
  env.storage.kind === "s3" ? s3ContentStore(env.storage) : diskContentStore(env.storage.dir);

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
