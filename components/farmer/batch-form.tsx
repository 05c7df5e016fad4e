"use client";

import { type FormEvent, type ReactNode, useEffect, useState } from "react";
// Before the schemas are built: they probe for eval when they are created.
import { UNITS } from "@/lib/batches/units";
import type { CapturedFile } from "@/lib/offline/file-outbox-state";
import { listPendingBatches } from "@/lib/offline/outbox";
import type { PendingBatch } from "@/lib/offline/outbox-state";
import { FARMER_API } from "@/lib/offline/worker-messages";
import styles from "./farmer.module.css";
import { type NewBatch, useFarmer } from "./farmer-app";
import { CertificateFields, PhotoPicker, useCertificate } from "./file-capture";
import { plural } from "./plural";
import { sizeLabel } from "./waiting-files";

type Draft = {
  cropType: string;
  variety: string;
  quantity: string;
  unit: (typeof UNITS)[number];
  harvestDate: string;
  farmId: string;
  qualityScore: string;
  certifications: string;
  notes: string;
};

type Farm = { id: number; name: string };

const UNIT_NAMES: Record<Draft["unit"], string> = { KGM: "kilograms", TNE: "tonnes", LBR: "pounds", H87: "pieces" };
const DRAFT_KEY = "greenledger:batch-draft";
// The schema wants a client id; the real one is made when the batch is saved.
const PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000";

function today(): string {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
}

/** A fresh form: today's harvest in kilograms, from the farmer's first farm. Nothing is carried over silently. */
function emptyDraft(farms?: Farm[] | null): Draft {
  return {
    cropType: "",
    variety: "",
    quantity: "",
    unit: "KGM",
    harvestDate: today(),
    farmId: farms?.[0] ? String(farms[0].id) : "",
    qualityScore: "80",
    certifications: "",
    notes: "",
  };
}

/** What the farmer may take over from the batch just saved, with one visible tap. */
type Carried = Pick<Draft, "farmId" | "harvestDate" | "unit">;

function fromBatch(batch: PendingBatch): Draft {
  const { body } = batch;
  return {
    cropType: body.cropType,
    variety: body.variety ?? "",
    quantity: String(body.quantity),
    unit: body.unit,
    harvestDate: body.harvestDate,
    farmId: String(body.farmId),
    qualityScore: String(body.qualityScore),
    certifications: (body.metadata?.certifications ?? []).join(", "),
    notes: body.metadata?.notes ?? "",
  };
}

const toNumber = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

function toBatch(draft: Draft): NewBatch {
  const certifications = draft.certifications
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  const notes = draft.notes.trim();
  return {
    cropType: draft.cropType,
    ...(draft.variety.trim() ? { variety: draft.variety.trim() } : {}),
    quantity: toNumber(draft.quantity),
    unit: draft.unit,
    harvestDate: draft.harvestDate,
    farmId: toNumber(draft.farmId),
    qualityScore: toNumber(draft.qualityScore),
    metadata: { ...(certifications.length ? { certifications } : {}), ...(notes ? { notes } : {}) },
  };
}

/**
 * The server's own schema, so the form refuses exactly what the server would. Loaded at the first save: zod was most
 * of the script this page ran as it opened (the service worker precaches it with the app shell, for offline use).
 */
async function validate(batch: NewBatch): Promise<Record<string, string>> {
  const schema = await import("@/lib/zod-in-browser")
    .then(() => import("@/lib/batches/schema"))
    // Not loadable (offline before the worker had it): the batch is kept anyway and the server checks it.
    .catch(() => null);
  if (!schema) return {};
  const { createBatchSchema } = schema;
  const result = createBatchSchema.safeParse({ ...batch, clientId: PLACEHOLDER_ID });
  if (result.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = issue.path[0] === "metadata" ? String(issue.path[1] ?? "notes") : String(issue.path[0] ?? "form");
    errors[field] ??= issue.message;
  }
  return errors;
}

function fixTarget(): string | null {
  const match = /^#fix=([0-9a-f-]{36})$/.exec(window.location.hash);
  return match?.[1] ?? null;
}

export function BatchForm() {
  const { save, resendFixed, online } = useFarmer();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [farms, setFarms] = useState<Farm[] | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [fixing, setFixing] = useState<PendingBatch | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [last, setLast] = useState<Carried | null>(null);
  const [busy, setBusy] = useState(false);
  // Kept in memory until the batch is saved: then they wait on the phone with it, for its token id.
  const [photos, setPhotos] = useState<{ key: string; photo: CapturedFile }[]>([]);
  const certificate = useCertificate();
  const [certificateOpen, setCertificateOpen] = useState(false);

  useEffect(() => {
    const target = fixTarget();
    if (target) {
      void listPendingBatches().then((batches) => {
        const batch = batches.find((item) => item.clientId === target && item.status === "needs-attention");
        if (!batch) return;
        setFixing(batch);
        setDraft(fromBatch(batch));
      });
    } else {
      const stored = localStorage.getItem(DRAFT_KEY);
      if (stored) setDraft({ ...emptyDraft(), ...(JSON.parse(stored) as Partial<Draft>) });
    }
    fetch(FARMER_API.farms)
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const { farms: list } = (await response.json()) as { farms: Farm[] };
        setFarms(list);
        setDraft((current) => (current.farmId || !list[0] ? current : { ...current, farmId: String(list[0].id) }));
      })
      .catch(() => setFarms([]));
  }, []);

  const update = (field: keyof Draft, value: string) => {
    setSaved(null);
    setDraft((current) => {
      const next = { ...current, [field]: value };
      // Kept on every keystroke: a reload (an app update, a killed tab) reopens the form as it was.
      if (!fixing) localStorage.setItem(DRAFT_KEY, JSON.stringify(next));
      return next;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const batch = toBatch(draft);
    const found = await validate(batch);
    setErrors(found);
    const certificateFile = certificate.started ? await certificate.collect() : null;
    if (certificate.started && !certificateFile) setCertificateOpen(true);
    if (Object.keys(found).length > 0 || (certificate.started && !certificateFile)) return;
    const files = [...photos.map(({ photo }) => photo), ...(certificateFile ? [certificateFile] : [])];
    setBusy(true);
    try {
      if (fixing) {
        await resendFixed(fixing, batch, files);
        setFixing(null);
        window.history.replaceState(null, "", "/farmer/new");
      } else {
        await save(batch, files);
      }
      localStorage.removeItem(DRAFT_KEY);
      setDraft(emptyDraft(farms));
      setPhotos([]);
      certificate.reset();
      setCertificateOpen(false);
      setLast({ farmId: draft.farmId, harvestDate: draft.harvestDate, unit: draft.unit });
      const what = files.length > 0 ? `${batch.cropType} with ${plural(files.length, "file")}` : batch.cropType;
      setSaved(
        online
          ? `Saved ${what}. Sending it to the ledger…`
          : `Saved ${what} on this phone. It will be sent when you are back online.`,
      );
    } finally {
      setBusy(false);
    }
  };

  const takeLast = () => {
    if (!last) return;
    setDraft((current) => ({ ...current, ...last }));
    setLast(null);
  };
  const lastFarm = last && (farms?.find((farm) => String(farm.id) === last.farmId)?.name ?? `farm #${last.farmId}`);

  const field = (name: keyof Draft, label: string, input: ReactNode, hint?: string) => (
    <div className={styles.field}>
      <label htmlFor={`batch-${name}`}>{label}</label>
      {input}
      {hint && <span className={styles.muted}>{hint}</span>}
      {errors[name] && (
        <span className={styles.error} id={`batch-${name}-error`} role="alert">
          {errors[name]}
        </span>
      )}
    </div>
  );
  const common = (name: keyof Draft) => ({
    id: `batch-${name}`,
    name,
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `batch-${name}-error` : undefined,
  });

  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <h1>{fixing ? "Fix and resend" : "New batch"}</h1>
      {fixing?.lastError && (
        <div className={styles.panel} role="note">
          <p className={styles.error}>The server did not accept this batch: {fixing.lastError.message}</p>
          {fixing.lastError.fields?.map((item) => (
            <p key={item.path} className={styles.muted}>
              {item.path}: {item.message}
            </p>
          ))}
        </div>
      )}
      <form className={`${styles.panel} ${styles.form}`} onSubmit={submit} noValidate>
        {last && (
          <div className={styles.carry} data-testid="carry-over">
            <p className={styles.muted}>A fresh form: harvested today, in kilograms, on your first farm.</p>
            <button type="button" className={styles.secondary} onClick={takeLast}>
              Same as last batch: {lastFarm}, {last.harvestDate}, {UNIT_NAMES[last.unit]}
            </button>
          </div>
        )}
        {field(
          "cropType",
          "Crop",
          <input
            {...common("cropType")}
            value={draft.cropType}
            onChange={(event) => update("cropType", event.target.value)}
            autoComplete="off"
            required
          />,
        )}
        {field(
          "variety",
          "Variety (optional)",
          <input
            {...common("variety")}
            value={draft.variety}
            onChange={(event) => update("variety", event.target.value)}
          />,
        )}
        <div className={styles.pair}>
          {field(
            "quantity",
            "Quantity",
            <input
              {...common("quantity")}
              value={draft.quantity}
              onChange={(event) => update("quantity", event.target.value)}
              inputMode="decimal"
              required
            />,
          )}
          {field(
            "unit",
            "Unit",
            <select {...common("unit")} value={draft.unit} onChange={(event) => update("unit", event.target.value)}>
              {UNITS.map((unit) => (
                <option key={unit} value={unit}>
                  {UNIT_NAMES[unit]}
                </option>
              ))}
            </select>,
          )}
        </div>
        <div className={styles.pair}>
          {field(
            "harvestDate",
            "Harvest date",
            <input
              {...common("harvestDate")}
              type="date"
              value={draft.harvestDate}
              onChange={(event) => update("harvestDate", event.target.value)}
              required
            />,
          )}
          {field(
            "qualityScore",
            "Quality (0-100)",
            <input
              {...common("qualityScore")}
              value={draft.qualityScore}
              onChange={(event) => update("qualityScore", event.target.value)}
              inputMode="numeric"
              required
            />,
          )}
        </div>
        {field(
          "farmId",
          "Farm",
          farms && farms.length > 0 ? (
            <select
              {...common("farmId")}
              value={draft.farmId}
              onChange={(event) => update("farmId", event.target.value)}
            >
              {farms.map((farm) => (
                <option key={farm.id} value={farm.id}>
                  {farm.name} (#{farm.id})
                </option>
              ))}
            </select>
          ) : (
            <input
              {...common("farmId")}
              value={draft.farmId}
              onChange={(event) => update("farmId", event.target.value)}
              inputMode="numeric"
            />
          ),
          farms && farms.length === 0 ? "Your farm list is not on this phone yet: enter the farm number." : undefined,
        )}
        {field(
          "certifications",
          "Certifications (optional, comma-separated)",
          <input
            {...common("certifications")}
            value={draft.certifications}
            onChange={(event) => update("certifications", event.target.value)}
          />,
        )}
        {field(
          "notes",
          "Notes (optional)",
          <textarea
            {...common("notes")}
            value={draft.notes}
            onChange={(event) => update("notes", event.target.value)}
            rows={3}
          />,
        )}
        <fieldset className={styles.attach}>
          <legend>Photos and certificate (optional)</legend>
          <PhotoPicker
            onPhotos={(taken) =>
              setPhotos((current) => [...current, ...taken.map((photo) => ({ key: crypto.randomUUID(), photo }))])
            }
          />
          {photos.length > 0 && (
            <ul className={styles.list} data-testid="picked-photos">
              {photos.map(({ key, photo }) => (
                <li key={key} className={styles.item}>
                  <span className={styles.fileName}>
                    {photo.fileName} · {sizeLabel(photo.bytes.byteLength)}
                  </span>
                  <button
                    type="button"
                    className={styles.secondary}
                    onClick={() => setPhotos((current) => current.filter((item) => item.key !== key))}
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <details
            className={styles.certificate}
            open={certificateOpen}
            onToggle={(event) => setCertificateOpen(event.currentTarget.open)}
          >
            <summary className={styles.secondary}>Add certificate</summary>
            <div className={styles.form}>
              <CertificateFields certificate={certificate} />
            </div>
          </details>
        </fieldset>
        <div className={styles.row}>
          <button type="submit" className={styles.primary} disabled={busy}>
            {fixing ? "Save and resend" : "Save batch"}
          </button>
          <a className={styles.secondary} href="/farmer">
            Back to batches
          </a>
        </div>
        {saved && (
          <p className={styles.success} role="status" data-testid="saved-message">
            {saved}
          </p>
        )}
      </form>
    </main>
  );
}
