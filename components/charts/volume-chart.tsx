"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatBucket, type SeriesRow, type WindowKey } from "./summarize-analytics";

type Props = { rows: SeriesRow[]; crops: string[]; colors: Record<string, string>; windowKey: WindowKey };

export default function VolumeChart({ rows, crops, colors, windowKey }: Props) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="bucket" tickFormatter={(value: string) => formatBucket(value, windowKey)} minTickGap={24} />
        <YAxis allowDecimals={false} width={40} />
        <Tooltip labelFormatter={(value) => formatBucket(String(value), windowKey)} />
        <Legend />
        {crops.map((crop) => (
          <Bar key={crop} dataKey={crop} stackId="volume" fill={colors[crop]} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
