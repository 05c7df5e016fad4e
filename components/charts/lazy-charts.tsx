"use client";

import dynamic from "next/dynamic";

// recharts stays out of the first load; the placeholder fills the chart's fixed-height frame, so nothing shifts.
const placeholder = () => <div style={{ width: "100%", height: "100%" }} aria-hidden="true" />;

export const VolumeChart = dynamic(() => import("./volume-chart"), { ssr: false, loading: placeholder });
export const QualityChart = dynamic(() => import("./quality-chart"), { ssr: false, loading: placeholder });
export const MedianQuantityChart = dynamic(() => import("./median-quantity-chart"), {
  ssr: false,
  loading: placeholder,
});
