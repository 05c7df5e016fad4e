import type { Metadata } from "next";
import { BatchForm } from "@/components/farmer/batch-form";

export const metadata: Metadata = { title: "New batch" };

export default function NewBatchPage() {
  return <BatchForm />;
}
