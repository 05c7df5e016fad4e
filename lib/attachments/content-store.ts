import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type S3Storage, s3Config } from "@/lib/attachments/s3-config";
import { env } from "@/lib/env.mjs";

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

function s3ContentStore(storage: S3Storage): ContentStore {
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

export const contentStore: ContentStore =
  env.storage.kind === "s3" ? s3ContentStore(env.storage) : diskContentStore(env.storage.dir);
