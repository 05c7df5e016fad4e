"use client";

import "leaflet/dist/leaflet.css";
import L from "leaflet";
import { useEffect, useRef, useState } from "react";
import styles from "./live-map.module.css";

type Position = { lat: number; lng: number; accuracy: number; time: string; receivedAt: string };

// Fixes further apart than this are a gap (no signal, the page was hidden): drawn as one, not as a straight line.
const GAP_MS = 60_000;
// Past this without a position the map says the picture is old.
const STALE_MS = 90_000;

const ROUTE = { color: "#2d6a4f", weight: 4, opacity: 0.85 };
const HERE = { radius: 8, color: "#fff", weight: 2, fillColor: "#2d6a4f", fillOpacity: 1 };

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}

/** The shipment's route so far and where it is now, moved by the batch's live stream (SSE). */
export default function LiveMapView({
  tokenId,
  tileUrl,
  attribution,
}: {
  tokenId: number;
  tileUrl: string;
  attribution: string;
}) {
  const element = useRef<HTMLDivElement>(null);
  const [last, setLast] = useState<Position | null>(null);
  const [connection, setConnection] = useState<"connecting" | "live" | "reconnecting">("connecting");
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!element.current) return;
    const map = L.map(element.current, { attributionControl: Boolean(tileUrl) }).setView([20, 0], 2);
    if (tileUrl) L.tileLayer(tileUrl, { attribution, maxZoom: 19 }).addTo(map);
    let leg: L.Polyline | null = null;
    let here: L.CircleMarker | null = null;
    let previous: Position | null = null;
    const source = new EventSource(`/api/crop-batches/${tokenId}/live`);
    source.onopen = () => setConnection("live");
    source.onerror = () => setConnection("reconnecting");
    source.addEventListener("position", (event) => {
      const position = JSON.parse((event as MessageEvent<string>).data) as Position;
      const point: L.LatLngTuple = [position.lat, position.lng];
      const gap = previous && Date.parse(position.time) - Date.parse(previous.time) > GAP_MS;
      if (!leg || gap) leg = L.polyline([], ROUTE).addTo(map);
      leg.addLatLng(point);
      if (!here) {
        here = L.circleMarker(point, HERE).addTo(map);
        map.setView(point, 14);
      } else {
        here.setLatLng(point);
        if (!map.getBounds().contains(point)) map.panTo(point);
      }
      previous = position;
      setLast(position);
    });
    const clock = setInterval(() => setNow(Date.now()), 1_000);
    return () => {
      source.close();
      clearInterval(clock);
      map.remove();
    };
  }, [tokenId, tileUrl, attribution]);

  const age = last ? now - Date.parse(last.time) : null;
  const stale = age !== null && age > STALE_MS;
  return (
    <div className={styles.live}>
      <div
        ref={element}
        className={`${styles.map} ${stale ? styles.stale : ""}`}
        data-testid="live-map"
        data-lat={last?.lat}
        data-lng={last?.lng}
        role="img"
        aria-label="Map of the shipment's route so far"
      />
      <p className={styles.status} aria-live="polite">
        {last && age !== null ? (
          <>
            Position updated <time dateTime={last.time}>{ago(age)}</time>
            {stale ? " (no news since: the carrier may be out of signal)" : ""}
          </>
        ) : (
          "Waiting for the carrier's first position"
        )}
        {connection === "reconnecting" ? " · reconnecting…" : ""}
      </p>
    </div>
  );
}
