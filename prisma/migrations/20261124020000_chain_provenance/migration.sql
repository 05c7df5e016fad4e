-- On-chain provenance: deployments, the relayer's signed transactions and queue, the indexer's cursor, block window, events and token projection.

CREATE TYPE "ChainJobStatus" AS ENUM ('queued', 'sent', 'confirmed', 'final', 'failed');

CREATE TYPE "ChainTxStatus" AS ENUM ('pending', 'mined', 'reverted');

CREATE TABLE "chain_deployments" (
    "chain_id" INTEGER NOT NULL,
    "contract_address" VARCHAR(42) NOT NULL,
    "deploy_block" BIGINT NOT NULL,
    "deploy_tx_hash" VARCHAR(66),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_deployments_pkey" PRIMARY KEY ("chain_id")
);

CREATE TABLE "chain_transactions" (
    "id" BIGSERIAL NOT NULL,
    "chain_id" INTEGER NOT NULL,
    "from_address" VARCHAR(42) NOT NULL,
    "nonce" INTEGER NOT NULL,
    "hash" VARCHAR(66) NOT NULL,
    "raw" TEXT NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "status" "ChainTxStatus" NOT NULL DEFAULT 'pending',
    "mined_block" BIGINT,
    "broadcast_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_transactions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "chain_jobs" (
    "id" BIGSERIAL NOT NULL,
    "token_id" BIGINT NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "args" JSONB NOT NULL DEFAULT '{}',
    "status" "ChainJobStatus" NOT NULL DEFAULT 'queued',
    "tx_id" BIGINT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_jobs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "chain_cursors" (
    "chain_id" INTEGER NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" VARCHAR(66) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_cursors_pkey" PRIMARY KEY ("chain_id")
);

CREATE TABLE "chain_blocks" (
    "chain_id" INTEGER NOT NULL,
    "number" BIGINT NOT NULL,
    "hash" VARCHAR(66) NOT NULL,
    "parent_hash" VARCHAR(66) NOT NULL,

    CONSTRAINT "chain_blocks_pkey" PRIMARY KEY ("chain_id","number")
);

CREATE TABLE "chain_events" (
    "chain_id" INTEGER NOT NULL,
    "tx_hash" VARCHAR(66) NOT NULL,
    "log_index" INTEGER NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" VARCHAR(66) NOT NULL,
    "event_name" VARCHAR(32) NOT NULL,
    "token_id" BIGINT,
    "args" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_events_pkey" PRIMARY KEY ("chain_id","tx_hash","log_index")
);

CREATE TABLE "chain_tokens" (
    "chain_id" INTEGER NOT NULL,
    "token_id" BIGINT NOT NULL,
    "owner_address" VARCHAR(42) NOT NULL,
    "state" SMALLINT NOT NULL,
    "content_hash" CHAR(64) NOT NULL,
    "mint_tx_hash" VARCHAR(66) NOT NULL,
    "mint_block" BIGINT NOT NULL,
    "updated_block" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chain_tokens_pkey" PRIMARY KEY ("chain_id","token_id")
);

CREATE UNIQUE INDEX "chain_transactions_hash_key" ON "chain_transactions"("hash");

CREATE INDEX "chain_transactions_status_chain_id_idx" ON "chain_transactions"("status", "chain_id");

CREATE UNIQUE INDEX "chain_transactions_chain_id_from_address_nonce_key" ON "chain_transactions"("chain_id", "from_address", "nonce");

CREATE INDEX "chain_jobs_status_next_attempt_at_id_idx" ON "chain_jobs"("status", "next_attempt_at", "id");

CREATE INDEX "chain_jobs_token_id_idx" ON "chain_jobs"("token_id");

CREATE INDEX "chain_jobs_tx_id_idx" ON "chain_jobs"("tx_id");

CREATE INDEX "chain_events_chain_id_block_number_idx" ON "chain_events"("chain_id", "block_number");

CREATE INDEX "chain_events_token_id_idx" ON "chain_events"("token_id");

ALTER TABLE "chain_jobs" ADD CONSTRAINT "chain_jobs_tx_id_fkey" FOREIGN KEY ("tx_id") REFERENCES "chain_transactions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The indexer settles chain_status every step; this keeps that to the rows not yet final.
CREATE INDEX "crop_batches_chain_unsettled_idx" ON "crop_batches"("token_id") WHERE (chain_status <> 'final'::"ChainStatus");
