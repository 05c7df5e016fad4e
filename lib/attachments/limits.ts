// No zod here: the farmer app checks files against the same limits before it stores them.
const MIB = 1024 * 1024;

/** What the farmer's phone may send, by kind: photos are re-encoded, certificates kept byte for byte. */
export const ACCEPTED_TYPES = {
  photo: ["image/jpeg", "image/png", "image/webp"],
  certificate: ["application/pdf"],
} as const;

export const MAX_BYTES = { photo: 12 * MIB, certificate: 10 * MIB } as const;
export const MAX_PDF_PAGES = 50;
/** Past this many pixels an image is refused unread: a 16000x16000 PNG decodes to about 1 GB. */
export const MAX_IMAGE_PIXELS = 48_000_000;
/** The long edge of a stored photo, and of its thumbnail; the square icon a marketplace row shows at 48 px, 2x. */
export const PHOTO_EDGE = 2000;
export const THUMB_EDGE = 480;
export const ICON_EDGE = 96;
/** How long a worker holds a received file it claimed: one takes well under a second; a dead worker's is taken back. */
export const CLAIM_SECONDS = 60;
