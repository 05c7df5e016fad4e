-- Purchase offers: a buyer offers to buy a listed batch; at most one open offer per buyer and batch.

CREATE TYPE "OfferStatus" AS ENUM ('open', 'accepted', 'rejected', 'withdrawn');

CREATE TABLE "purchase_offers" (
    "id" BIGSERIAL NOT NULL,
    "token_id" BIGINT NOT NULL,
    "buyer_address" VARCHAR(42) NOT NULL,
    "status" "OfferStatus" NOT NULL DEFAULT 'open',
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "purchase_offers_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "purchase_offers_token_id_status_idx" ON "purchase_offers"("token_id", "status");

CREATE UNIQUE INDEX "purchase_offers_one_open_idx" ON "purchase_offers"("token_id", "buyer_address") WHERE (status = 'open'::"OfferStatus");

ALTER TABLE "purchase_offers" ADD CONSTRAINT "purchase_offers_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "crop_batches"("token_id") ON DELETE RESTRICT ON UPDATE CASCADE;
