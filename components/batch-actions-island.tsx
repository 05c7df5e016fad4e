"use client";

import dynamic from "next/dynamic";
import type { ComponentProps } from "react";
import { QueryProvider } from "@/components/query-provider";
import styles from "./wallet.module.css";

// Its own chunk, fetched only when the server saw a session: visitors who are not signed in never load it.
const BatchActions = dynamic(() => import("@/components/batch-actions").then((module) => module.BatchActions), {
  ssr: false,
  loading: () => <p className={styles.muted}>Loading the actions for your role…</p>,
});

export function BatchActionsIsland(props: ComponentProps<typeof BatchActions>) {
  return (
    <QueryProvider>
      <BatchActions {...props} />
    </QueryProvider>
  );
}
