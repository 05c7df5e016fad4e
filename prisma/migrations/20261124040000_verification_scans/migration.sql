ALTER TABLE "crop_batches" ADD COLUMN     "gtin" VARCHAR(14),
ADD COLUMN     "lot" VARCHAR(20);

CREATE TABLE "verification_scans" (
    "token_id" BIGINT NOT NULL,
    "scan_count" BIGINT NOT NULL DEFAULT 0,
    "last_scanned_at" TIMESTAMPTZ(3) NOT NULL,
    "flagged_at" TIMESTAMPTZ(3),
    "flagged_networks" SMALLINT,

    CONSTRAINT "verification_scans_pkey" PRIMARY KEY ("token_id")
);

CREATE UNIQUE INDEX "crop_batches_gtin_lot_key" ON "crop_batches"("gtin", "lot");

ALTER TABLE "verification_scans" ADD CONSTRAINT "verification_scans_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "crop_batches"("token_id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- A GS1 Digital Link needs both keys; one without the other identifies nothing.
ALTER TABLE "crop_batches" ADD CONSTRAINT "crop_batches_gtin_lot_check" CHECK ((gtin IS NULL) = (lot IS NULL));
