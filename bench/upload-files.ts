import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PDFDocument } from "pdf-lib";
import sharp from "sharp";

/** One file the bench uploads: a photo as a phone sends it after downscaling, or a scanned certificate. */
export type UploadFile = { file: string; kind: "photo" | "certificate"; type: string; size: number };

export type FileSet = { photos: UploadFile[]; certificates: UploadFile[] };

// Bumped when the recipe changes, so a --files folder from an older recipe is generated again.
const RECIPE = 1;
const PHOTO = { width: 1600, height: 1200, bytes: 230 * 1024 };
// A certificate is one scanned A4 page (an embedded JPEG) and a page of text.
const SCAN = { width: 1100, height: 1556, bytes: 178 * 1024 };
// Each image is random colour cells blurred into gradients (what makes every file's bytes its own) plus fine grain,
// whose strength sets the JPEG's size.
const CELL = 32;
const QUALITY = 80;
const PARALLEL = 4;

async function image(width: number, height: number, grain: number): Promise<Buffer> {
  const cells = { width: Math.ceil(width / CELL), height: Math.ceil(height / CELL) };
  const pixels = await sharp(randomBytes(cells.width * cells.height * 3), { raw: { ...cells, channels: 3 } })
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer();
  const noise = randomBytes(pixels.length);
  for (let at = 0; at < pixels.length; at += 1) {
    const value = (pixels[at] ?? 0) + (((noise[at] ?? 0) & 63) - 32) * grain;
    pixels[at] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: QUALITY })
    .toBuffer();
}

/** The grain that makes an image of this size come out near `bytes` (bisected on a few samples). */
async function calibrate(width: number, height: number, bytes: number): Promise<number> {
  let low = 0;
  let high = 1;
  for (let step = 0; step < 7; step += 1) {
    const grain = (low + high) / 2;
    const sizes = await Promise.all([0, 1].map(() => image(width, height, grain).then((jpeg) => jpeg.length)));
    if ((sizes[0] ?? 0) + (sizes[1] ?? 0) > 2 * bytes) high = grain;
    else low = grain;
  }
  return (low + high) / 2;
}

async function certificate(scan: Buffer, index: number): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`Organic certificate NL-BIO-01-${String(index).padStart(5, "0")}`);
  const embedded = await pdf.embedJpg(scan);
  pdf.addPage([595, 842]).drawImage(embedded, { x: 20, y: 20, width: 555, height: 785 });
  const text = pdf.addPage([595, 842]);
  text.drawText(`Certificate NL-BIO-01-${String(index).padStart(5, "0")}`, { x: 50, y: 780, size: 18 });
  text.drawText("Scope: organic production of vegetables. Valid 2026-01-01 to 2027-12-31.", {
    x: 50,
    y: 750,
    size: 10,
  });
  return Buffer.from(await pdf.save());
}

async function inBatches<T>(count: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let start = 0; start < count; start += PARALLEL) {
    const size = Math.min(PARALLEL, count - start);
    made.push(...(await Promise.all(Array.from({ length: size }, (_, offset) => make(start + offset)))));
  }
  return made;
}

/**
 * `photos` JPEGs of ~230 KB (1600 x 1200, as a phone sends them after downscaling) and `certificates` PDFs of ~180 KB
 * (a scanned page and a page of text), every one with bytes of its own, written to `folder` once: a folder that already
 * holds this many files of this recipe is used as it is.
 */
export async function uploadFiles(folder: string, photos: number, certificates: number): Promise<FileSet> {
  const manifest = path.join(folder, "manifest.json");
  if (existsSync(manifest)) {
    const found = JSON.parse(readFileSync(manifest, "utf8")) as FileSet & { recipe: number };
    if (found.recipe === RECIPE && found.photos.length >= photos && found.certificates.length >= certificates) {
      return { photos: found.photos.slice(0, photos), certificates: found.certificates.slice(0, certificates) };
    }
  }
  mkdirSync(folder, { recursive: true });
  const [photoGrain, scanGrain] = [
    await calibrate(PHOTO.width, PHOTO.height, PHOTO.bytes),
    await calibrate(SCAN.width, SCAN.height, SCAN.bytes),
  ];
  const write = (name: string, bytes: Buffer) => {
    const file = path.join(folder, name);
    writeFileSync(file, bytes);
    return { file, size: bytes.length };
  };
  const set: FileSet = {
    photos: await inBatches(photos, async (index) => ({
      ...write(`photo-${index}.jpg`, await image(PHOTO.width, PHOTO.height, photoGrain)),
      kind: "photo" as const,
      type: "image/jpeg",
    })),
    certificates: await inBatches(certificates, async (index) => ({
      ...write(`certificate-${index}.pdf`, await certificate(await image(SCAN.width, SCAN.height, scanGrain), index)),
      kind: "certificate" as const,
      type: "application/pdf",
    })),
  };
  writeFileSync(manifest, JSON.stringify({ recipe: RECIPE, ...set }));
  return set;
}
