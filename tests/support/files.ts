import { crc32, deflateSync } from "node:zlib";
import { PDFDocument } from "pdf-lib";
import sharp from "sharp";

/** A landscape photo stored sideways (EXIF Orientation 6: shown rotated 90 degrees) with the farm's GPS position. */
export function sidewaysPhotoWithGps(width = 3000, height = 1200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 140, b: 60 } } })
    .jpeg({ quality: 80 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: "FieldCam" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "52/1 5/1 0/1", GPSLongitudeRef: "E", GPSLongitude: "4/1 18/1 0/1" },
    })
    .toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A PNG whose header claims `edge` x `edge` pixels (a decompression bomb): a few hundred bytes on the wire. */
export function pngBomb(edge = 16_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(edge, 0);
  header.writeUInt32BE(edge, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(64 * (edge + 1));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export const HTML_TAIL = "<html><body><script>alert('polyglot')</script></body></html>";

/** A JPEG with an HTML page and a ZIP archive appended: viewers show the image, other tools read the tail. */
export async function polyglotJpeg(): Promise<Buffer> {
  const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#884400" } })
    .jpeg()
    .toBuffer();
  const zip = Buffer.from("504b0506000000000000000000000000000000000000", "hex");
  return Buffer.concat([image, Buffer.from(HTML_TAIL), zip]);
}

/** A certificate as the issuer would send it: a PDF of `pages` pages. */
export async function certificatePdf(pages = 1, title = "EU Organic certificate"): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(title);
  for (let page = 0; page < pages; page++)
    pdf.addPage([595, 842]).drawText(`${title}, page ${page + 1}`, { x: 50, y: 780 });
  return Buffer.from(await pdf.save());
}

export const brokenPdf = () => Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a PDF any more\n");

/** The certificate details declared with the PDFs the tests and the bench send. */
export const CERTIFICATE = {
  issuer: "Skal Biocontrole",
  number: "NL-BIO-01-12345",
  scope: "Organic production of vegetables",
  validFrom: "2026-01-01",
  validUntil: "2027-12-31",
};
