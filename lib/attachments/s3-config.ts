import type { S3ClientConfig } from "@aws-sdk/client-s3";
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
