import { randomBytes } from "node:crypto";
import { PDFDocument } from "pdf-lib";
import sharp from "sharp";

// A JPEG of random pixels at quality 90 takes about 0.83 bytes a pixel: it does not compress, so sizes are predictable.
const BYTES_PER_PIXEL = 0.83;

/** A JPEG photo of random pixels, about `bytes` long (4:3), unlike any other. */
export function noisePhoto(bytes: number): Promise<Buffer> {
  const width = Math.round(Math.sqrt(((bytes / BYTES_PER_PIXEL) * 4) / 3));
  const height = Math.round((width * 3) / 4);
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A certificate PDF about `bytes` long: `pages` pages, each with a scan of random pixels. */
export async function noisePdf(bytes: number, pages = 1): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle("Scanned certificate");
  for (let page = 0; page < pages; page++) {
    const scan = await pdf.embedJpg(await noisePhoto(bytes / pages));
    pdf.addPage([595, 842]).drawImage(scan, { x: 40, y: 40, width: 515, height: 386 });
  }
  return Buffer.from(await pdf.save());
}
