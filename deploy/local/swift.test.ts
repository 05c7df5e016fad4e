import { randomBytes } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { accepts } from "@/deploy/local/daemon";
import { type Swift, startSwift } from "@/deploy/local/swift";

const TIMEOUT = 60_000;

let swift: Swift;
let client: S3Client;

beforeAll(async () => {
  swift = await startSwift();
  client = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    forcePathStyle: true,
    // Swift's s3api knows none of the SDK's default CRC checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}, TIMEOUT);

afterAll(async () => {
  client?.destroy();
  await swift?.stop();
}, TIMEOUT);

async function read(key: string): Promise<Buffer> {
  const object = await client.send(new GetObjectCommand({ Bucket: swift.bucket, Key: key }));
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

test(
  "an object put is read back as it was",
  async () => {
    const body = randomBytes(1000);
    await client.send(new PutObjectCommand({ Bucket: swift.bucket, Key: "single", Body: body }));
    expect((await read("single")).equals(body)).toBe(true);
  },
  TIMEOUT,
);

test(
  "a multipart upload of a 5 MiB part and a small one is read back whole",
  async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const { Bucket, Key } = { Bucket: swift.bucket, Key: "multipart" };
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    for (const [index, part] of parts.entries()) {
      await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: index + 1, Body: part }));
    }
    const listed = await client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map(({ PartNumber, Size }) => ({ PartNumber, Size }))).toEqual([
      { PartNumber: 1, Size: parts[0]?.length },
      { PartNumber: 2, Size: parts[1]?.length },
    ]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: listed.Parts?.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    expect((await read(Key)).equals(Buffer.concat(parts))).toBe(true);
  },
  TIMEOUT,
);

test(
  "stop() leaves nothing listening on the endpoint",
  async () => {
    const port = Number(new URL(swift.endpoint).port);
    await swift.stop();
    expect(await accepts(port)).toBe(false);
  },
  TIMEOUT,
);
