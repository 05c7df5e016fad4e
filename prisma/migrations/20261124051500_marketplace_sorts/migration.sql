CREATE INDEX "crop_batches_quality_idx" ON "crop_batches"("quality_score" DESC, "token_id" DESC);

CREATE INDEX "crop_batches_quantity_idx" ON "crop_batches"("quantity" DESC, "token_id" DESC);
