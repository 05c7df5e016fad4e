"use client";

import { useEffect, useState } from "react";
import { readFileBytes } from "@/lib/offline/file-outbox";
import type { PendingFile } from "@/lib/offline/file-outbox-state";
import { downloadFile } from "@/lib/offline/outbox-export";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";
import { Reason } from "./outbox-list";
import { useNow } from "./use-now";

export const sizeLabel = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))} KB`;

/** The photo as the phone keeps it, small; a certificate shows as "PDF". Same size either way: nothing moves. */
function FileThumb({ file }: { file: PendingFile }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (file.kind !== "photo") return;
    let created: string | null = null;
    let stale = false;
    void readFileBytes(file.id).then((bytes) => {
      if (!bytes || stale) return;
      created = URL.createObjectURL(new Blob([bytes], { type: file.type }));
      setUrl(created);
    });
    return () => {
      stale = true;
      if (created) URL.revokeObjectURL(created);
    };
  }, [file.id, file.kind, file.type]);
  if (file.kind !== "photo") {
    return (
      <span className={styles.thumb} aria-hidden="true">
        PDF
      </span>
    );
  }
  return (
    <span className={styles.thumb} aria-hidden="true">
      {/* biome-ignore lint/performance/noImgElement: a blob: URL of bytes on the phone; next/image cannot fetch it */}
      {url && <img src={url} alt="" />}
    </span>
  );
}

function stateOf(file: PendingFile, uploading: boolean) {
  if (file.status === "needs-attention") return { key: "needs-attention", label: "Needs attention" };
  if (file.tokenId === null) return { key: "waiting-for-batch", label: "Waits for its batch" };
  if (uploading) return { key: "uploading", label: "Uploading" };
  return { key: "pending", label: "Waiting to upload" };
}

/** Which batch a file belongs to, on the dashboard's list of every file on the phone. */
function BatchOf({ file }: { file: PendingFile }) {
  const { pending } = useFarmer();
  if (file.tokenId !== null) return <a href={`/farmer/batches/${file.tokenId}`}>batch #{file.tokenId}</a>;
  const batch = pending.find((item) => item.clientId === file.batchClientId);
  return batch ? <>{batch.body.cropType} (saved on this phone)</> : <>its batch is no longer on this phone</>;
}

/** Photos and certificates still on the phone, each with how much of it the server has. */
export function WaitingFiles({ files, showBatch = false }: { files: PendingFile[]; showBatch?: boolean }) {
  const { discardFile, online, persisted, progress } = useFarmer();
  const now = useNow(files.some((file) => file.status === "pending" && file.lastError));
  if (files.length === 0) return null;

  return (
    <>
      {persisted === false && (
        <p className={styles.warning}>
          The browser may clear these files if the phone runs low on space: sync or export them soon.
        </p>
      )}
      <ul className={styles.list} data-testid="waiting-files">
        {files.map((file) => {
          const sent = progress[file.id] ?? file.sentBytes;
          const state = stateOf(file, progress[file.id] !== undefined);
          return (
            <li key={file.id} data-file-id={file.id} data-status={state.key}>
              <div className={styles.file}>
                <FileThumb file={file} />
                <div className={styles.fileBody}>
                  <div className={styles.fileHead}>
                    <strong className={styles.fileName}>{file.fileName}</strong>
                    <span className={file.status === "needs-attention" ? styles.badgeAttention : styles.badgeWaiting}>
                      {state.label}
                    </span>
                  </div>
                  <p className={styles.muted}>
                    {file.kind === "photo" ? "Photo" : `Certificate from ${file.certificate?.issuer ?? "?"}`} ·{" "}
                    {sizeLabel(file.size)}
                    {showBatch && (
                      <>
                        {" · "}
                        <BatchOf file={file} />
                      </>
                    )}
                  </p>
                  <progress
                    className={styles.progress}
                    max={file.size}
                    value={sent}
                    aria-label={`${file.fileName}: ${Math.round((100 * sent) / file.size)}% sent`}
                  />
                  <Reason item={file} now={now} online={online} />
                  <div className={styles.row}>
                    {file.status === "needs-attention" && (
                      <button type="button" className={styles.secondary} onClick={() => void downloadFile(file)}>
                        Save a copy
                      </button>
                    )}
                    <button
                      type="button"
                      className={styles.danger}
                      onClick={() => {
                        if (window.confirm(`Discard ${file.fileName}? The server does not have it.`)) {
                          void discardFile(file.id);
                        }
                      }}
                    >
                      Discard
                    </button>
                  </div>
                </div>
              </div>
            </li>
          );
        })}
      </ul>
    </>
  );
}
