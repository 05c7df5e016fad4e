"use client";

import { type ChangeEvent, useState } from "react";
import type { CertificateDto } from "@/lib/attachments/attachment-dto";
import {
  type CapturedFile,
  captureProblem,
  certificateProblems,
  trimCertificate,
} from "@/lib/offline/file-outbox-state";
import { preparePhoto } from "@/lib/offline/prepare-photo";
import styles from "./farmer.module.css";

const EMPTY_CERTIFICATE: CertificateDto = { issuer: "", number: "", scope: "", validFrom: "", validUntil: "" };

type CertificateErrors = Partial<Record<keyof CertificateDto | "file", string>>;

/** Some phones' pickers give a PDF no type: its name says what it is (the server reads its bytes anyway). */
function pdfType(file: File): string {
  return file.type || (file.name.toLowerCase().endsWith(".pdf") ? "application/pdf" : "");
}

/** Takes or picks photos and hands them over downscaled; says which it could not use and why. */
export function PhotoPicker({ onPhotos }: { onPhotos: (photos: CapturedFile[]) => Promise<void> | void }) {
  const [working, setWorking] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);

  const pick = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const chosen = [...(input.files ?? [])];
    // Emptied at once, so the same photo can be picked again.
    input.value = "";
    const kept: CapturedFile[] = [];
    const refused: string[] = [];
    for (const [index, file] of chosen.entries()) {
      setWorking(`Preparing photo ${index + 1} of ${chosen.length}…`);
      const photo = await preparePhoto(file).catch(() => null);
      const problem = photo
        ? captureProblem("photo", photo.type, photo.bytes.byteLength)
        : "This phone could not read it.";
      if (photo && !problem) kept.push(photo);
      else refused.push(`${file.name}: ${problem}`);
    }
    try {
      if (kept.length > 0) await onPhotos(kept);
    } finally {
      setWorking(null);
      setProblems(refused);
    }
  };

  return (
    <div className={styles.capture}>
      <div className={styles.row}>
        <label className={styles.picker}>
          Add photos
          <input type="file" accept="image/*" capture="environment" multiple onChange={pick} />
        </label>
        <label className={styles.picker}>
          Choose photos
          <input type="file" accept="image/*" multiple onChange={pick} />
        </label>
      </div>
      <p className={`${styles.muted} ${styles.captureState}`} role="status">
        {working}
      </p>
      {problems.map((problem) => (
        <p key={problem} className={styles.error} role="alert">
          {problem}
        </p>
      ))}
    </div>
  );
}

/** A certificate's details and PDF, as typed so far; `collect` checks them and reads the file. */
export function useCertificate() {
  const [draft, setDraft] = useState<CertificateDto>(EMPTY_CERTIFICATE);
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<CertificateErrors>({});
  // Bumped on reset: a file input cannot be emptied by state, so it is made anew.
  const [generation, setGeneration] = useState(0);

  const started = file !== null || Object.values(draft).some((value) => value.trim() !== "");

  const collect = async (): Promise<CapturedFile | null> => {
    const found: CertificateErrors = { ...certificateProblems(draft) };
    const fileProblem = file
      ? captureProblem("certificate", pdfType(file), file.size)
      : "Choose the certificate's PDF.";
    if (fileProblem) found.file = fileProblem;
    setErrors(found);
    if (!file || Object.keys(found).length > 0) return null;
    return {
      kind: "certificate",
      type: pdfType(file),
      fileName: file.name,
      bytes: await file.arrayBuffer(),
      certificate: trimCertificate(draft),
    };
  };

  const reset = () => {
    setDraft(EMPTY_CERTIFICATE);
    setFile(null);
    setErrors({});
    setGeneration((count) => count + 1);
  };

  return { draft, setDraft, setFile, errors, generation, started, collect, reset };
}

type Certificate = ReturnType<typeof useCertificate>;

const FIELDS: { name: keyof CertificateDto; label: string; type: "text" | "date" }[] = [
  { name: "issuer", label: "Issuer", type: "text" },
  { name: "number", label: "Certificate number", type: "text" },
  { name: "scope", label: "Scope", type: "text" },
  { name: "validFrom", label: "Valid from", type: "date" },
  { name: "validUntil", label: "Valid until", type: "date" },
];

export function CertificateFields({ certificate }: { certificate: Certificate }) {
  const { draft, setDraft, setFile, errors, generation } = certificate;
  const invalid = (name: keyof CertificateErrors) => ({
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `certificate-${name}-error` : undefined,
  });
  const error = (name: keyof CertificateErrors) =>
    errors[name] && (
      <span className={styles.error} id={`certificate-${name}-error`} role="alert">
        {errors[name]}
      </span>
    );

  return (
    <>
      <div className={styles.field}>
        <label htmlFor="certificate-file">Certificate (PDF)</label>
        <input
          key={generation}
          id="certificate-file"
          type="file"
          accept="application/pdf"
          onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)}
          {...invalid("file")}
        />
        {error("file")}
      </div>
      {FIELDS.map(({ name, label, type }) => (
        <div className={styles.field} key={name}>
          <label htmlFor={`certificate-${name}`}>{label}</label>
          <input
            id={`certificate-${name}`}
            type={type}
            value={draft[name]}
            onChange={(event) => {
              const { value } = event.target;
              setDraft((current) => ({ ...current, [name]: value }));
            }}
            {...invalid(name)}
          />
          {error(name)}
        </div>
      ))}
    </>
  );
}
