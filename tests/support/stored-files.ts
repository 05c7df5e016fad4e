import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type S3Storage, s3Config } from "@/lib/attachments/s3-config";
import { env } from "@/lib/env.mjs";

function s3Client(storage: S3Storage): S3Client {
  return new S3Client(s3Config(storage));
}

/** Puts other bytes under a stored file's name, as someone with access to the disk or the bucket could. */
export async function tamperWith(sha256: string, bytes: Buffer): Promise<void> {
  const storage = env.storage;
  if (storage.kind === "disk") return writeFile(path.join(storage.dir, sha256.slice(0, 2), sha256), bytes);
  const client = s3Client(storage);
  await client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: `files/${sha256}`, Body: bytes }));
  client.destroy();
}

/** The SHA-256 names of every file the content store holds, on disk or in the S3 bucket. */
export async function storedFiles(): Promise<string[]> {
  const storage = env.storage;
  if (storage.kind === "disk") {
    const names = await readdir(storage.dir, { recursive: true }).catch(() => []);
    return names
      .map((name) => name.split("/").at(-1) ?? "")
      .filter((name) => /^[0-9a-f]{64}$/.test(name))
      .sort();
  }
  const client = s3Client(storage);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: "files/", ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key?.slice("files/".length) ?? ""));
    token = page.NextContinuationToken;
  } while (token);
  client.destroy();
  return keys.sort();
}
