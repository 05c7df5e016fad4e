"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatBucket, type SeriesRow, type WindowKey } from "./summarize-analytics";

type Props = { rows: SeriesRow[]; crops: string[]; colors: Record<string, string>; windowKey: WindowKey };

export default function QualityChart({ rows, crops, colors, windowKey }: Props) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="bucket" tickFormatter={(value: string) => formatBucket(value, windowKey)} minTickGap={24} />
        <YAxis domain={[0, 100]} width={40} />
        <Tooltip labelFormatter={(value) => formatBucket(String(value), windowKey)} />
        <Legend />
        {crops.map((crop) => (
          <Line
            key={crop}
            dataKey={crop}
            stroke={colors[crop]}
            strokeWidth={2}
            dot={rows.length <= 31}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
