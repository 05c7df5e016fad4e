import { labelSvg } from "@/lib/verify/label-svg";
import { verificationUrl } from "@/lib/verify/verification-url";

/** The label's QR code for a batch, rendered to SVG on the server; it opens the public verification page. */
export async function BatchQr({ tokenId, size = 192 }: { tokenId: number; size?: number }) {
  const url = verificationUrl(tokenId);
  const svg = await labelSvg(tokenId, size);
  return (
    <figure style={{ margin: 0, width: size }}>
      {/* biome-ignore lint/performance/noImgElement: an inline SVG data URL has nothing for next/image to optimise. */}
      <img
        src={`data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`}
        width={size}
        height={size}
        alt={`QR code linking to ${url}`}
      />
      <figcaption style={{ fontSize: "0.875rem", overflowWrap: "anywhere" }}>
        <a href={url}>{url}</a>
      </figcaption>
    </figure>
  );
}
