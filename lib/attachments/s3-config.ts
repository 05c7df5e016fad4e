import { createHash } from "node:crypto";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { env } from "@/lib/env.mjs";

export type S3Storage = Extract<typeof env.storage, { kind: "s3" }>;

export function s3Config(storage: S3Storage): S3ClientConfig {
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

/**
 * S3 now accepts a CRC32 on a multi-object delete, but compatible stores (Swift's s3api, older Ceph and MinIO) still
 * require the Content-MD5 the SDK no longer sends: without it, removing an upload fails there.
 */
export function sendContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === "DeleteObjectsCommand" && request.headers && typeof request.body === "string") {
        request.headers["content-md5"] = createHash("md5").update(request.body).digest("base64");
      }
      return next(args);
    },
    { step: "build", name: "greenledgerContentMd5" },
  );
}
