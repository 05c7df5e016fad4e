"use client";

import { type FormEvent, useEffect, useState } from "react";
import type { AttachmentDto } from "@/lib/attachments/attachment-dto";
import type { PendingFile } from "@/lib/offline/file-outbox-state";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";
import { CertificateFields, PhotoPicker, useCertificate } from "./file-capture";
import { WaitingFiles } from "./waiting-files";

// Processing takes the server's worker a moment; a busy one is asked less and less often.
const FIRST_CHECK_MS = 1_000;
const LAST_CHECK_MS = 30_000;

async function getJson<T>(url: string): Promise<T | null> {
  const response = await fetch(url).catch(() => null);
  return response?.ok ? ((await response.json()) as T) : null;
}

function Attached({ attachment }: { attachment: AttachmentDto }) {
  if (attachment.kind === "photo") {
    return (
      <div className={styles.file}>
        <span className={styles.thumb}>
          {attachment.thumbnailUrl && (
            // biome-ignore lint/performance/noImgElement: the server made this thumbnail; next/image would re-encode it
            <img src={attachment.thumbnailUrl} alt={attachment.fileName ?? "Photo"} />
          )}
        </span>
        <div className={styles.fileBody}>
          <strong className={styles.fileName}>{attachment.fileName ?? "Photo"}</strong>
          <p className={styles.muted}>
            Photo · {attachment.width} × {attachment.height}
          </p>
        </div>
      </div>
    );
  }
  const certificate = attachment.certificate;
  return (
    <div className={styles.file}>
      <span className={styles.thumb} aria-hidden="true">
        PDF
      </span>
      <div className={styles.fileBody}>
        <strong className={styles.fileName}>
          {certificate ? `${certificate.issuer}, No. ${certificate.number}` : attachment.fileName}
        </strong>
        {certificate && (
          <p className={styles.muted}>
            {certificate.scope} · valid {certificate.validFrom} to {certificate.validUntil}
          </p>
        )}
        {attachment.fileUrl && <a href={attachment.fileUrl}>Download the PDF</a>}
      </div>
    </div>
  );
}

/**
 * What the batch has on the server: its ready files, and those sent from this page that the server is still
 * checking (or refused after reading them).
 */
function UploadedFiles({ tokenId }: { tokenId: number }) {
  const { uploaded, online } = useFarmer();
  const [ready, setReady] = useState<AttachmentDto[] | null>(null);
  const [checked, setChecked] = useState<Record<string, AttachmentDto>>({});
  const readyIds = new Set(ready?.map((attachment) => attachment.id));
  const sent = uploaded.filter((file) => file.tokenId === tokenId && !readyIds.has(file.id));
  const checkingKey = sent
    .filter((file) => checked[file.id]?.status !== "rejected")
    .map((file) => file.id)
    .join();

  useEffect(() => {
    void online;
    let stale = false;
    void getJson<AttachmentDto[]>(`/api/crop-batches/${tokenId}/attachments`).then((list) => {
      if (list && !stale) setReady(list);
    });
    return () => {
      stale = true;
    };
  }, [tokenId, online]);

  useEffect(() => {
    if (!checkingKey) return;
    let stale = false;
    let round = 0;
    let timer: number | undefined;
    const check = async () => {
      const answers = await Promise.all(
        checkingKey.split(",").map((id) => getJson<AttachmentDto>(`/api/attachments/${id}`)),
      );
      const list = await getJson<AttachmentDto[]>(`/api/crop-batches/${tokenId}/attachments`);
      if (stale) return;
      const known = answers.filter((answer): answer is AttachmentDto => answer !== null);
      setChecked((current) => ({ ...current, ...Object.fromEntries(known.map((answer) => [answer.id, answer])) }));
      if (list) setReady(list);
      round += 1;
      timer = window.setTimeout(check, Math.min(LAST_CHECK_MS, FIRST_CHECK_MS * 2 ** round));
    };
    timer = window.setTimeout(check, FIRST_CHECK_MS);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [checkingKey, tokenId]);

  const refusal = (file: PendingFile) => checked[file.id]?.status === "rejected" && checked[file.id]?.reason;

  return (
    <>
      <h3 className={styles.subheading}>Uploaded</h3>
      {ready === null && sent.length === 0 ? (
        <p className={styles.muted}>{online ? "Loading…" : "Shown once the phone is online."}</p>
      ) : (ready?.length ?? 0) + sent.length === 0 ? (
        <p className={styles.muted}>No photos or certificates yet.</p>
      ) : (
        <ul className={styles.list} data-testid="uploaded-files">
          {ready?.map((attachment) => (
            <li key={attachment.id} data-file-id={attachment.id} data-status="ready">
              <Attached attachment={attachment} />
            </li>
          ))}
          {sent.map((file) => (
            <li key={file.id} data-file-id={file.id} data-status={refusal(file) ? "rejected" : "processing"}>
              <strong className={styles.fileName}>{file.fileName}</strong>
              {refusal(file) ? (
                <p className={styles.error}>Refused by the server: {refusal(file)}</p>
              ) : (
                <p className={styles.muted}>Uploaded; the server is checking it.</p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The batch page's photos and certificates: taken or picked here, kept on the phone, uploaded when it can. */
export function BatchFiles({ tokenId }: { tokenId: number }) {
  const { files, outboxRead, addFiles } = useFarmer();
  const certificate = useCertificate();
  const [certificateOpen, setCertificateOpen] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const waiting = files.filter((file) => file.tokenId === tokenId);

  const saveCertificate = async (event: FormEvent) => {
    event.preventDefault();
    const captured = await certificate.collect();
    if (!captured) return;
    await addFiles(tokenId, [captured]);
    certificate.reset();
    setCertificateOpen(false);
    setSaved(`Certificate from ${captured.certificate?.issuer} kept on this phone.`);
  };

  return (
    <section className={`${styles.panel} ${styles.noPrint}`} aria-labelledby="files-heading">
      <h2 id="files-heading">Photos and certificates</h2>
      <PhotoPicker onPhotos={(photos) => addFiles(tokenId, photos)} />
      <details
        className={styles.certificate}
        open={certificateOpen}
        onToggle={(event) => setCertificateOpen(event.currentTarget.open)}
      >
        <summary className={styles.secondary}>Add certificate</summary>
        <form className={styles.form} onSubmit={saveCertificate} noValidate>
          <CertificateFields certificate={certificate} />
          <div className={styles.row}>
            <button type="submit" className={styles.primary}>
              Save certificate
            </button>
          </div>
        </form>
      </details>
      {saved && (
        <p className={styles.success} role="status">
          {saved}
        </p>
      )}
      {outboxRead && waiting.length > 0 && (
        <>
          <h3 className={styles.subheading}>On this phone, not yet uploaded</h3>
          <WaitingFiles files={waiting} />
        </>
      )}
      <UploadedFiles tokenId={tokenId} />
    </section>
  );
}
