import { ApiError } from "@/lib/api/errors";
import { fileUrl } from "@/lib/attachments/attachment-dto";
import { contentStore, rehash } from "@/lib/attachments/content-store";
import { checksum, type TimelineEntry, toTimelineEntry } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { RECALLED, type StateName, stateName } from "@/lib/batches/lifecycle";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { perTurnLoader } from "@/lib/cache/per-turn-loader";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead, pools } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { eventHashOf } from "@/lib/epcis/event";

/**
 * verified: the record is intact and the chain holds the same hash, owner and state. pending: not yet on chain.
 * mismatch: the chain disagrees with the record. tampered: the record no longer matches its own hash.
 */
export type VerificationStatus = "verified" | "pending" | "mismatch" | "recalled" | "tampered";

export type ChainProof = {
  status: string;
  chainId: number;
  contract: string | null;
  tokenId: number;
  txHash: string | null;
  blockNumber: number | null;
  onChainHash: string | null;
  onChainOwner: string | null;
  onChainState: number | null;
};

export type VerifiedPhoto = { url: string; thumbnailUrl: string | null; width: number | null; height: number | null };

export type VerifiedCertificate = {
  issuer: string;
  number: string;
  scope: string;
  validFrom: string;
  validUntil: string;
  fileUrl: string;
  /** The SHA-256 the certificate's EPCIS event recorded. */
  recordedHash: string | null;
  /** The SHA-256 of the bytes stored now, read back when this verification was made. */
  storedHash: string | null;
  hashMatches: boolean;
  /** The certificate's EPCIS event hashes to what was recorded (and anchored): the file's hash is part of it. */
  eventIntact: boolean;
  /** Where the chain holds the event's hash (CropBatch's EventAnchored), as indexed; null while it is relayed. */
  anchor: { eventHash: string; txHash: string; blockNumber: number } | null;
};

export type Verification = {
  tokenId: number;
  isValid: boolean;
  status: VerificationStatus;
  /** The reason the latest recall gave, when it gave one. */
  recallReason: string | null;
  batch: {
    cropType: string;
    variety: string | null;
    quantity: number;
    unit: string;
    harvestDate: string;
    qualityScore: number;
    certifications: string[];
    organic: boolean | null;
    grade: string | null;
    state: number;
    stateName: StateName;
    ownerAddress: string;
    farm: { name: string; region: string; country: string };
  };
  /** A certificate's event names its issuer: the page says "certificate recorded", not "inspected". */
  timeline: (TimelineEntry & { certificateIssuer?: string })[];
  photos: VerifiedPhoto[];
  certificates: VerifiedCertificate[];
  proof: {
    algorithm: "sha-256 over RFC 8785 canonical JSON";
    recordHash: string;
    computedHash: string;
    chain: ChainProof;
  };
};

let deployedContract: string | undefined;

async function contractAddress(): Promise<string | null> {
  if (env.chain.contract) return checksum(env.chain.contract);
  if (!deployedContract) {
    const deployment = await dbRead.chainDeployment.findUnique({ where: { chainId: env.chain.chainId } });
    if (deployment) deployedContract = checksum(deployment.contractAddress);
  }
  return deployedContract ?? null;
}

// A read point at pick-up would reveal the farm; the public page shows places to about 10 km.
function coarsen(readPoint: string | null): string | null {
  const match = readPoint?.match(/^geo:(-?[\d.]+),(-?[\d.]+)$/);
  return match ? `geo:${Number(match[1]).toFixed(1)},${Number(match[2]).toFixed(1)}` : null;
}

// One round trip for all the tokens asked for in a turn of the event loop: each batch with its farm, this chain's token
// row and the events in timeline order. The farm is looked up per row (OFFSET 0 keeps the planner from hashing all
// farms for a batch of a few tokens). Dates and numbers come back as text so nothing depends on the server's time
// zone or on JavaScript's number parsing.
const VERIFICATIONS_SQL = `
  SELECT b.token_id::text AS token_id, b.client_id, b.crop_type, b.variety, b.quantity::text AS quantity, b.unit,
         to_char(b.harvest_date, 'YYYY-MM-DD') AS harvest_date, b.origin_farm, b.quality_score, b.metadata,
         b.current_state, b.owner_address, b.content_hash, b.chain_status::text AS chain_status, b.gtin, b.lot,
         f.name AS farm_name, f.region AS farm_region, f.country AS farm_country,
         t.owner_address AS token_owner, t.state AS token_state, t.content_hash AS token_hash,
         t.mint_tx_hash, t.mint_block::text AS mint_block,
         coalesce(e.events, '[]') AS events, coalesce(a.attachments, '[]') AS attachments
    FROM crop_batches b
    CROSS JOIN LATERAL (SELECT name, region, country FROM farms WHERE id = b.origin_farm OFFSET 0) f
    LEFT JOIN chain_tokens t ON t.chain_id = $2 AND t.token_id = b.token_id
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object(
               'eventId', event_id, 'eventType', event_type, 'bizStep', biz_step, 'disposition', disposition,
               'toState', to_state,
               'eventTime', to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'eventTimeZoneOffset', event_time_zone_offset, 'readPoint', read_point,
               'actorAddress', actor_address, 'eventHash', event_hash, 'reason', payload -> 'gl:reason',
               'certificateIssuer', payload -> 'gl:certificate' ->> 'issuer'
             ) ORDER BY event_time, id) AS events
        FROM batch_events
       WHERE token_id = b.token_id
    ) e ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object(
               'kind', a.kind, 'sha256', a.sha256, 'thumbSha256', a.thumb_sha256, 'mediaType', a.media_type,
               'width', a.width, 'height', a.height, 'issuer', a.cert_issuer, 'number', a.cert_number,
               'scope', a.cert_scope, 'validFrom', to_char(a.valid_from, 'YYYY-MM-DD'),
               'validUntil', to_char(a.valid_until, 'YYYY-MM-DD'),
               'recordedHash', ev.payload -> 'gl:certificate' ->> 'sha256',
               'event', ev.payload, 'eventHash', ev.event_hash,
               'anchorTx', an.tx_hash, 'anchorBlock', an.block_number::text
             ) ORDER BY a.created_at, a.id) AS attachments
        FROM attachments a
        LEFT JOIN batch_events ev ON ev.event_id = a.event_id
        LEFT JOIN LATERAL (
          SELECT c.tx_hash, c.block_number FROM chain_events c
           WHERE c.chain_id = $2 AND c.token_id = a.token_id AND c.event_name = 'EventAnchored'
             AND c.args ->> 'eventHash' = '0x' || ev.event_hash
           ORDER BY c.block_number LIMIT 1
        ) an ON a.kind = 'certificate'
       WHERE a.token_id = b.token_id AND a.status = 'ready'
    ) a ON true
   WHERE b.token_id = ANY($1::bigint[])`;

type EventRow = {
  eventId: string;
  eventType: string;
  bizStep: string;
  disposition: string;
  toState: number;
  eventTime: string;
  eventTimeZoneOffset: string;
  readPoint: string | null;
  actorAddress: string;
  eventHash: string;
  reason: unknown;
  certificateIssuer: string | null;
};

type AttachmentRow = {
  kind: "photo" | "certificate";
  sha256: string;
  thumbSha256: string | null;
  mediaType: string;
  width: number | null;
  height: number | null;
  issuer: string | null;
  number: string | null;
  scope: string | null;
  validFrom: string | null;
  validUntil: string | null;
  recordedHash: string | null;
  event: Record<string, unknown> | null;
  eventHash: string | null;
  anchorTx: string | null;
  anchorBlock: string | null;
};

type VerificationRow = {
  token_id: string;
  client_id: string;
  crop_type: string;
  variety: string | null;
  quantity: string;
  unit: string;
  harvest_date: string;
  origin_farm: number;
  quality_score: number;
  metadata: { certifications?: string[]; organic?: boolean; grade?: string };
  current_state: number;
  owner_address: string;
  content_hash: string;
  chain_status: string;
  gtin: string | null;
  lot: string | null;
  farm_name: string;
  farm_region: string;
  farm_country: string;
  token_owner: string | null;
  token_state: number | null;
  token_hash: string | null;
  mint_tx_hash: string | null;
  mint_block: string | null;
  events: EventRow[];
  attachments: AttachmentRow[];
};

function certificateOf(attachment: AttachmentRow, storedHashes: Map<string, string | null>): VerifiedCertificate {
  const storedHash = storedHashes.get(attachment.sha256) ?? null;
  return {
    issuer: attachment.issuer ?? "",
    number: attachment.number ?? "",
    scope: attachment.scope ?? "",
    validFrom: attachment.validFrom ?? "",
    validUntil: attachment.validUntil ?? "",
    fileUrl: fileUrl(attachment.sha256, attachment.mediaType),
    recordedHash: attachment.recordedHash,
    storedHash,
    hashMatches: storedHash !== null && storedHash === attachment.recordedHash,
    eventIntact: attachment.event !== null && eventHashOf(attachment.event) === attachment.eventHash,
    anchor:
      attachment.anchorTx && attachment.anchorBlock && attachment.eventHash
        ? { eventHash: attachment.eventHash, txHash: attachment.anchorTx, blockNumber: Number(attachment.anchorBlock) }
        : null,
  };
}

function toVerification(
  tokenId: number,
  row: VerificationRow,
  contract: string | null,
  storedHashes: Map<string, string | null>,
): Verification {
  const computedHash = contentHash({
    clientId: row.client_id,
    cropType: row.crop_type,
    variety: row.variety,
    quantity: row.quantity,
    unit: row.unit,
    harvestDate: row.harvest_date,
    farmId: row.origin_farm,
    qualityScore: row.quality_score,
    metadata: row.metadata,
    ...(row.gtin && row.lot ? { gtin: row.gtin, lot: row.lot } : {}),
  });
  const intact = computedHash === row.content_hash;
  const onChain = row.token_state !== null;
  const recalled = row.current_state === RECALLED || row.token_state === RECALLED;
  const agrees =
    row.token_hash === row.content_hash &&
    row.token_owner === row.owner_address &&
    row.token_state === row.current_state;
  const status: VerificationStatus = !intact
    ? "tampered"
    : recalled
      ? "recalled"
      : !onChain
        ? "pending"
        : agrees
          ? "verified"
          : "mismatch";
  const reason = row.events.findLast((event) => event.toState === RECALLED)?.reason;
  return {
    tokenId,
    isValid: status === "verified",
    status,
    recallReason: typeof reason === "string" ? reason : null,
    batch: {
      cropType: row.crop_type,
      variety: row.variety,
      quantity: Number(row.quantity),
      unit: row.unit,
      harvestDate: row.harvest_date,
      qualityScore: row.quality_score,
      certifications: row.metadata.certifications ?? [],
      organic: row.metadata.organic ?? null,
      grade: row.metadata.grade ?? null,
      state: row.current_state,
      stateName: stateName(row.current_state),
      ownerAddress: checksum(row.owner_address),
      farm: { name: row.farm_name, region: row.farm_region, country: row.farm_country },
    },
    timeline: row.events.map((event) => ({
      ...toTimelineEntry(event),
      readPoint: coarsen(event.readPoint),
      ...(event.certificateIssuer ? { certificateIssuer: event.certificateIssuer } : {}),
    })),
    photos: row.attachments
      .filter((attachment) => attachment.kind === "photo")
      .map((photo) => ({
        url: fileUrl(photo.sha256, photo.mediaType),
        thumbnailUrl: photo.thumbSha256 ? fileUrl(photo.thumbSha256, "image/webp") : null,
        width: photo.width,
        height: photo.height,
      })),
    certificates: row.attachments
      .filter((attachment) => attachment.kind === "certificate")
      .map((certificate) => certificateOf(certificate, storedHashes)),
    proof: {
      algorithm: "sha-256 over RFC 8785 canonical JSON",
      recordHash: row.content_hash,
      computedHash,
      chain: {
        status: row.chain_status,
        chainId: env.chain.chainId,
        contract,
        tokenId,
        txHash: row.mint_tx_hash,
        blockNumber: row.mint_block === null ? null : Number(row.mint_block),
        onChainHash: row.token_hash,
        onChainOwner: row.token_owner === null ? null : checksum(row.token_owner),
        onChainState: row.token_state,
      },
    },
  };
}

async function loadVerifications(tokenIds: readonly number[]): Promise<(Verification | null)[]> {
  const [result, contract] = await Promise.all([
    pools.read.query<VerificationRow>({
      // A named statement is planned once per connection. PGlite serves every socket from one session, where a
      // second connection preparing the same name fails: there the statement stays unnamed.
      name: env.database.embedded ? undefined : "verifications",
      text: VERIFICATIONS_SQL,
      values: [tokenIds, env.chain.chainId],
    }),
    contractAddress(),
  ]);
  const rows = new Map(result.rows.map((row) => [Number(row.token_id), row]));
  // Each certificate's bytes are read back and hashed again, so the page says what is stored now, not at upload.
  const certificates = new Set(
    result.rows.flatMap((row) =>
      row.attachments.filter((item) => item.kind === "certificate").map((item) => item.sha256),
    ),
  );
  const storedHashes = new Map(
    await Promise.all(
      [...certificates].map(async (sha256) => [sha256, await rehash(contentStore, sha256).catch(() => null)] as const),
    ),
  );
  return tokenIds.map((tokenId) => {
    const row = rows.get(tokenId);
    return row ? toVerification(tokenId, row, contract, storedHashes) : null;
  });
}

const loader = perTurnLoader(loadVerifications, 200);

/** What a consumer's scan needs; a plain function so any entry (route, page, fast path) can call it. */
export async function getVerification(tokenId: number): Promise<Verification> {
  const verification = await cached(verificationKey(tokenId), () => loader.load(tokenId));
  if (!verification) throw new ApiError("not_found", `No batch has token id ${tokenId}. Check the code on the label.`);
  return verification;
}
