"use client";

import { usePathname } from "next/navigation";
import type { ReactNode } from "react";

const FARMER_APP = /^\/farmer(?:\/|$)/;

/** The farmer app brings its own header (it knows the session and the connection): the site's stays out of it. */
export function OutsideFarmerApp({ children }: { children: ReactNode }) {
  return FARMER_APP.test(usePathname() ?? "") ? null : children;
}
