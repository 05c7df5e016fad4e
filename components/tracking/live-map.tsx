"use client";

import dynamic from "next/dynamic";

// Leaflet touches window as it loads and weighs about 40 KB: only pages showing a shipment on the move load it.
const LiveMapView = dynamic(() => import("@/components/tracking/live-map-view"), {
  ssr: false,
  loading: () => <p>Loading the map…</p>,
});

export function LiveMap(props: { tokenId: number; tileUrl: string; attribution: string }) {
  return <LiveMapView {...props} />;
}
