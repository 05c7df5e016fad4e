-- Extensions (hand-written: Prisma does not manage them here)
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('farmer', 'transporter', 'inspector', 'buyer', 'admin');

-- CreateEnum
CREATE TYPE "ChainStatus" AS ENUM ('pending', 'confirmed', 'final');

-- CreateEnum
CREATE TYPE "TransporterStatus" AS ENUM ('available', 'busy', 'offline');

-- CreateTable
CREATE TABLE "users" (
    "address" VARCHAR(42) NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'buyer',
    "display_name" VARCHAR(120),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("address")
);

-- CreateTable
CREATE TABLE "auth_nonces" (
    "nonce" VARCHAR(128) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "consumed_at" TIMESTAMPTZ(3),

    CONSTRAINT "auth_nonces_pkey" PRIMARY KEY ("nonce")
);

-- CreateTable
CREATE TABLE "farms" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(160) NOT NULL,
    "region" VARCHAR(120) NOT NULL,
    "country" CHAR(2) NOT NULL,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "owner_address" VARCHAR(42) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "farms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crop_batches" (
    "token_id" BIGSERIAL NOT NULL,
    "client_id" UUID NOT NULL,
    "crop_type" VARCHAR(64) NOT NULL,
    "variety" VARCHAR(128),
    "quantity" DECIMAL(14,3) NOT NULL,
    "unit" VARCHAR(3) NOT NULL,
    "harvest_date" DATE NOT NULL,
    "origin_farm" INTEGER NOT NULL,
    "quality_score" SMALLINT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "current_state" SMALLINT NOT NULL DEFAULT 0,
    "owner_address" VARCHAR(42) NOT NULL,
    "custodian_address" VARCHAR(42),
    "content_hash" CHAR(64) NOT NULL,
    "chain_status" "ChainStatus" NOT NULL DEFAULT 'pending',
    "search_text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "crop_batches_pkey" PRIMARY KEY ("token_id")
);

-- CreateTable
CREATE TABLE "batch_events" (
    "id" BIGSERIAL NOT NULL,
    "token_id" BIGINT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" VARCHAR(32) NOT NULL,
    "action" VARCHAR(8),
    "biz_step" VARCHAR(64) NOT NULL,
    "disposition" VARCHAR(64) NOT NULL,
    "event_time" TIMESTAMPTZ(3) NOT NULL,
    "event_time_zone_offset" VARCHAR(6) NOT NULL,
    "read_point" TEXT,
    "actor_address" VARCHAR(42) NOT NULL,
    "from_state" SMALLINT,
    "to_state" SMALLINT NOT NULL,
    "payload" JSONB NOT NULL,
    "event_hash" CHAR(64) NOT NULL,
    "record_time" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "batch_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transporters" (
    "id" SERIAL NOT NULL,
    "address" VARCHAR(42) NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "status" "TransporterStatus" NOT NULL DEFAULT 'offline',
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transporters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "principal" VARCHAR(42) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "response_status" SMALLINT,
    "response_body" TEXT,
    "locked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("principal","key")
);

-- CreateTable
CREATE TABLE "crop_analytics_hourly" (
    "hour" TIMESTAMPTZ(0) NOT NULL,
    "crop_type" VARCHAR(64) NOT NULL,
    "batch_count" INTEGER NOT NULL,
    "avg_quality" DECIMAL(5,2) NOT NULL,
    "median_quantity" DECIMAL(14,3) NOT NULL,
    "refreshed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "crop_analytics_hourly_pkey" PRIMARY KEY ("hour","crop_type")
);

-- CreateIndex
CREATE INDEX "auth_nonces_expires_at_idx" ON "auth_nonces"("expires_at");

-- CreateIndex
CREATE INDEX "farms_owner_address_idx" ON "farms"("owner_address");

-- CreateIndex
CREATE UNIQUE INDEX "crop_batches_client_id_key" ON "crop_batches"("client_id");

-- CreateIndex
CREATE INDEX "crop_batches_active_idx" ON "crop_batches"("current_state", "crop_type", "harvest_date" DESC, "owner_address") WHERE (current_state = ANY (ARRAY[0, 1, 2]));

-- CreateIndex
CREATE INDEX "crop_batches_crop_harvest_covering_idx" ON "crop_batches"("crop_type", "harvest_date" DESC, "token_id" DESC) INCLUDE ("quantity", "origin_farm", "quality_score");

-- CreateIndex
CREATE INDEX "crop_batches_harvest_idx" ON "crop_batches"("harvest_date" DESC, "token_id" DESC);

-- CreateIndex
CREATE INDEX "crop_batches_metadata_idx" ON "crop_batches" USING GIN ("metadata" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "crop_batches_search_text_idx" ON "crop_batches" USING GIN ("search_text" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "crop_batches_owner_idx" ON "crop_batches"("owner_address", "created_at" DESC);

-- CreateIndex
CREATE INDEX "crop_batches_origin_farm_idx" ON "crop_batches"("origin_farm");

-- CreateIndex
CREATE INDEX "crop_batches_created_at_idx" ON "crop_batches"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "batch_events_event_id_key" ON "batch_events"("event_id");

-- CreateIndex
CREATE INDEX "batch_events_token_id_event_time_idx" ON "batch_events"("token_id", "event_time");

-- CreateIndex
CREATE UNIQUE INDEX "transporters_address_key" ON "transporters"("address");

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- CreateIndex
CREATE INDEX "crop_analytics_hourly_crop_type_hour_idx" ON "crop_analytics_hourly"("crop_type", "hour" DESC);

-- AddForeignKey
ALTER TABLE "crop_batches" ADD CONSTRAINT "crop_batches_origin_farm_fkey" FOREIGN KEY ("origin_farm") REFERENCES "farms"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch_events" ADD CONSTRAINT "batch_events_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "crop_batches"("token_id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written below: what schema.prisma cannot express.

ALTER TABLE "crop_batches" ADD CONSTRAINT "crop_batches_quality_score_check" CHECK ("quality_score" BETWEEN 0 AND 100);
ALTER TABLE "crop_batches" ADD CONSTRAINT "crop_batches_current_state_check" CHECK ("current_state" BETWEEN 0 AND 5);
ALTER TABLE "crop_batches" ADD CONSTRAINT "crop_batches_quantity_check" CHECK ("quantity" > 0);

CREATE INDEX "transporters_available_earth_idx" ON "transporters" USING GIST (ll_to_earth("latitude", "longitude")) WHERE ("status" = 'available');

CREATE FUNCTION batch_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'batch_events is append-only';
END;
$$;

CREATE TRIGGER "batch_events_append_only" BEFORE UPDATE OR DELETE ON "batch_events"
  FOR EACH ROW EXECUTE FUNCTION batch_events_append_only();

-- Recomputes only the hours since `since` (default: the last 24 hours), the design's incremental refresh.
CREATE FUNCTION refresh_crop_analytics_hourly(since timestamptz DEFAULT now() - interval '24 hours')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  from_hour timestamptz := date_trunc('hour', since);
  written integer;
BEGIN
  -- Concurrent refreshes (the schedule, an admin, another instance) would insert the same hours twice.
  PERFORM pg_advisory_xact_lock(hashtext('refresh_crop_analytics_hourly'));
  DELETE FROM crop_analytics_hourly WHERE hour >= from_hour;
  INSERT INTO crop_analytics_hourly (hour, crop_type, batch_count, avg_quality, median_quantity, refreshed_at)
  SELECT date_trunc('hour', created_at), crop_type, count(*)::int,
         round(avg(quality_score), 2),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY quantity),
         now()
  FROM crop_batches
  WHERE created_at >= from_hour
  GROUP BY 1, 2;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END;
$$;
