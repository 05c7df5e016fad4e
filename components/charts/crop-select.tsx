"use client";

import { useRouter } from "next/navigation";
import { useTransition } from "react";

type Props = { crops: string[]; selected: string | null; windowKey: string; className?: string };

export function CropSelect({ crops, selected, windowKey, className }: Props) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  return (
    <form action="/analytics" method="get" className={className} aria-busy={pending}>
      <input type="hidden" name="window" value={windowKey} />
      <label htmlFor="crop-select">Crop</label>
      <select
        key={selected ?? ""}
        id="crop-select"
        name="crop"
        defaultValue={selected ?? ""}
        onChange={(event) => {
          const params = new URLSearchParams({ window: windowKey });
          if (event.target.value) params.set("crop", event.target.value);
          startTransition(() => router.push(`/analytics?${params}`, { scroll: false }));
        }}
      >
        <option value="">All crops</option>
        {crops.map((crop) => (
          <option key={crop} value={crop}>
            {crop}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit">Show</button>
      </noscript>
    </form>
  );
}
