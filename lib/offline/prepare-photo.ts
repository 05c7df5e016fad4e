import type { CapturedFile } from "./file-outbox-state";

// About 200-400 KB as a JPEG: a phone photo (3-6 MB) costs a rural connection a tenth, and the server keeps up to
// 2000 px, so nothing a buyer looks at is lost.
const LONG_EDGE = 1600;
const QUALITY = 0.8;

async function encodeJpeg(bitmap: ImageBitmap, width: number, height: number): Promise<Blob> {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d")?.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")?.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode failed"))), "image/jpeg", QUALITY),
  );
}

/**
 * The photo as the phone will keep and send it: upright, at most LONG_EDGE pixels long, JPEG, without its EXIF (and
 * so without the farm's GPS position). A photo the browser cannot decode (HEIC on most) is kept as it is.
 */
export async function preparePhoto(file: File): Promise<CapturedFile> {
  const baseName = file.name.replace(/\.[^.]*$/, "") || "photo";
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
  if (!bitmap) {
    return { kind: "photo", type: file.type, fileName: file.name, bytes: await file.arrayBuffer(), certificate: null };
  }
  try {
    const scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height));
    const jpeg = await encodeJpeg(bitmap, Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    return {
      kind: "photo",
      type: "image/jpeg",
      fileName: `${baseName}.jpg`,
      bytes: await jpeg.arrayBuffer(),
      certificate: null,
    };
  } finally {
    bitmap.close();
  }
}
