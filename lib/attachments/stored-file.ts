import "server-only";
import { dbRead } from "@/lib/db/client";

/** A stored file is served once an attachment that is ready names it (a photo, its thumbnail or icon, a certificate). */
export async function isStoredFileServed(sha256: string): Promise<boolean> {
  const found = await dbRead.attachment.findFirst({
    where: { status: "ready", OR: [{ sha256 }, { thumbSha256: sha256 }, { iconSha256: sha256 }] },
    select: { id: true },
  });
  return found !== null;
}
