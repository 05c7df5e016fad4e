import type { Metadata } from "next";
import type { ReactNode } from "react";
import { FarmerApp } from "@/components/farmer/farmer-app";

export const metadata: Metadata = { title: { default: "Farmer", template: "%s · GreenLedger farmer" } };

/** No wallet libraries here: the farmer pages only need the session cookie, and must load fast on a phone. */
export default function FarmerLayout({ children }: { children: ReactNode }) {
  return <FarmerApp>{children}</FarmerApp>;
}
