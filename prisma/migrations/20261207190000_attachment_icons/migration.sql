-- The marketplace row's 96 px square icon of a photo (its 480 px thumbnail was 10x the bytes for a 48 px image).
ALTER TABLE "attachments" ADD COLUMN "icon_sha256" CHAR(64);
CREATE INDEX "attachments_icon_sha256_idx" ON "attachments"("icon_sha256");
