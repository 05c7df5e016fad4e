import type { MetadataRoute } from "next";

export default function manifest(): MetadataRoute.Manifest {
  return {
    id: "/farmer",
    name: "GreenLedger Farmer",
    short_name: "GreenLedger",
    description:
      "Log crop batches in the field, even without signal; they reach the ledger once, when you are back online.",
    start_url: "/farmer",
    scope: "/",
    display: "standalone",
    orientation: "portrait",
    background_color: "#f7f8f4",
    theme_color: "#1f6f43",
    icons: [
      { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
      { src: "/icons/icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
      { src: "/icons/maskable.svg", sizes: "any", type: "image/svg+xml", purpose: "maskable" },
    ],
  };
}
