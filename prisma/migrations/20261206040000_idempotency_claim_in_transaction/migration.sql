-- A key is now claimed inside its request's transaction, so a committed row always holds its response and no
-- claim has to expire. Claims left by the old code without a response are abandoned: free their keys.
DELETE FROM "idempotency_keys" WHERE "response_status" IS NULL;

ALTER TABLE "idempotency_keys" DROP COLUMN "locked_at";
