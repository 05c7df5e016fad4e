-- Photos and certificates of a batch, declared by the farmer's app with a client-generated id before their bytes are
-- uploaded (tus), then processed off the request path: the worker claims rows in `received` (attachments_received_idx).
CREATE TYPE "AttachmentKind" AS ENUM ('photo', 'certificate');
CREATE TYPE "AttachmentStatus" AS ENUM ('declared', 'uploading', 'received', 'ready', 'rejected', 'expired');
CREATE TABLE "attachments" (
    "id" UUID NOT NULL,
    "token_id" BIGINT NOT NULL,
    "farm_id" INTEGER NOT NULL,
    "owner_address" VARCHAR(42) NOT NULL,
    "kind" "AttachmentKind" NOT NULL,
    "file_name" VARCHAR(255),
    "declared_type" VARCHAR(100) NOT NULL,
    "declared_size" INTEGER NOT NULL,
    "status" "AttachmentStatus" NOT NULL DEFAULT 'declared',
    "reason" TEXT,
    "media_type" VARCHAR(100),
    "sha256" CHAR(64),
    "stored_size" INTEGER,
    "thumb_sha256" CHAR(64),
    "width" INTEGER,
    "height" INTEGER,
    "pages" INTEGER,
    "virus_scan" VARCHAR(16),
    "cert_issuer" VARCHAR(160),
    "cert_number" VARCHAR(80),
    "cert_scope" VARCHAR(300),
    "valid_from" DATE,
    "valid_until" DATE,
    "event_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "received_at" TIMESTAMPTZ(3),
    "ready_at" TIMESTAMPTZ(3),
    CONSTRAINT "attachments_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "attachments_token_id_created_at_id_idx" ON "attachments"("token_id", "created_at", "id");
CREATE INDEX "attachments_farm_id_idx" ON "attachments"("farm_id");
CREATE INDEX "attachments_received_idx" ON "attachments"("next_attempt_at") WHERE (status = 'received'::"AttachmentStatus");
CREATE INDEX "attachments_unfinished_idx" ON "attachments"("created_at") WHERE (status = ANY (ARRAY['declared'::"AttachmentStatus", 'uploading'::"AttachmentStatus"]));
CREATE INDEX "attachments_valid_certificates_idx" ON "attachments"("token_id", "valid_until") WHERE (kind = 'certificate'::"AttachmentKind" AND status = 'ready'::"AttachmentStatus");
CREATE INDEX "attachments_sha256_idx" ON "attachments"("sha256");
CREATE INDEX "attachments_thumb_sha256_idx" ON "attachments"("thumb_sha256");
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "crop_batches"("token_id") ON DELETE RESTRICT ON UPDATE CASCADE;
