import QRCode from "qrcode";
import { verificationUrl } from "@/lib/verify/verification-url";

/** The label's QR code as SVG: it encodes the batch's public verification URL. */
export function labelSvg(tokenId: number, size: number): Promise<string> {
  return QRCode.toString(verificationUrl(tokenId), { type: "svg", errorCorrectionLevel: "M", margin: 2, width: size });
}
