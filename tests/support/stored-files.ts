import { readdir } from "node:fs/promises";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { env } from "@/lib/env.mjs";

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
  const client = new S3Client({
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
  });
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
