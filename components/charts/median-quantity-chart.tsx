"use client";

import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { CropSummary } from "./summarize-analytics";

type Props = { perCrop: CropSummary[]; colors: Record<string, string> };

export default function MedianQuantityChart({ perCrop, colors }: Props) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={perCrop} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="cropType" interval={0} angle={-30} textAnchor="end" height={56} />
        <YAxis width={56} />
        <Tooltip formatter={(value) => [`${Number(value).toLocaleString("en")} kg`, "Median quantity"]} />
        <Bar dataKey="medianQuantity" name="Median quantity (kg)" isAnimationActive={false}>
          {perCrop.map((row) => (
            <Cell key={row.cropType} fill={colors[row.cropType]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}
