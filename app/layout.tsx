import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { SiteHeader } from "@/components/site-header";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "GreenLedger", template: "%s · GreenLedger" },
  description: "Farm-to-table traceability: every crop batch recorded from harvest to plate and anchored on chain.",
};

export const viewport: Viewport = { themeColor: "#1f6f43", width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SiteHeader />
        {children}
      </body>
    </html>
  );
}
