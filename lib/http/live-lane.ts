import type http from "node:http";
import { ApiError } from "@/lib/api/errors";
import { readSession } from "@/lib/auth/session";
import { env } from "@/lib/env.mjs";
import { securityHeaders } from "@/lib/http/security-headers";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { type LiveUpdate, type Subscription, trackingBus } from "@/lib/tracking/bus";
import { mayWatch, stillWatching } from "@/lib/tracking/may-watch";
import { releaseSlot, renewSlots, type Slot, takeSlot } from "@/lib/tracking/stream-slots";
import { getUser } from "@/lib/users/get-user";
import type { UserDto } from "@/lib/users/sign-in-user";

const LIVE_PATH = /^\/api\/crop-batches\/(\d{1,18})\/live$/;
// A heartbeat only to a stream that has had nothing for this long, looked for each tick: a watcher whose truck reports
// every few seconds never needs one, and idle ones are due at different ticks, not all at once (a write costs ~30 us
// here, kernel included: 12,500 of them in one go stalled a process for most of a second).
const HEARTBEAT_MS = 14_000;
// Each slot's lease (45 s) renewed a third of the way through, also spread over the ticks.
const SLOT_RENEW_MS = 15_000;
// A watcher who lost the right to watch (the offer withdrawn, the batch handed on) stops seeing it within a minute.
// Each batch is checked once for all its watchers, a period after its last check, and the batches due are checked in
// one query. The first check of each falls at random within the period, so that batches watched since the same
// moment (a restart, a ramp) are not all due on the same tick.
const RECHECK_MS = env.LIVE_RECHECK_SECONDS * 1000;
const TICK_MS = 1_000;
// A watcher that does not read: what waits unsent for it past this, and it is closed.
const MAX_UNSENT_BYTES = 64 * 1024;
const RETRY_MS = 2_000;
const SUBSCRIBE_TIMEOUT_MS = 5_000;

type Watcher = {
  response: http.ServerResponse;
  user: UserDto;
  slot: Slot;
  tokenId: string;
  /** The offset of the last update written to it. */
  sent: number;
  /** Live updates that arrived while it was catching up, sent after what it missed. */
  held: LiveUpdate[] | null;
  /** When something was last written to it, and when its slot's lease was last renewed, by the tick's clock. */
  wroteAt: number;
  renewedAt: number;
};

// Read once a tick instead of once a write.
let clock = Date.now();

/** The batches this process streams, each with its watchers: one bus subscription per batch, not per watcher. */
const batches = new Map<string, { watchers: Set<Watcher>; subscription: Subscription; checkedAt: number }>();

/** The token id of a live stream request, or undefined for anything else. */
export function liveTokenId(method: string | undefined, pathname: string): string | undefined {
  return method === "GET" ? pathname.match(LIVE_PATH)?.[1] : undefined;
}

// Reconnects spread out instead of arriving together, e.g. after a drain.
const retryHint = () => `retry: ${RETRY_MS + Math.floor(Math.random() * RETRY_MS)}\n\n`;

/**
 * An event as one HTTP/1.1 chunk, framed once for every watcher of its batch. Written straight to each watcher's
 * socket: ServerResponse.write would frame it again per watcher, as four buffered pieces flushed on a later tick, which
 * at 10,000 deliveries a second was most of what the process allocated and the garbage collector paused for.
 */
function chunk(event: string): Buffer {
  const size = Buffer.byteLength(event);
  return Buffer.from(`${size.toString(16)}\r\n${event}\r\n`);
}

const frame = (update: LiveUpdate) => chunk(`id: ${update.offset}\nevent: position\ndata: ${update.data}\n\n`);
const HEARTBEAT = chunk(": heartbeat\n\n");

function close(watcher: Watcher): void {
  if (!watcher.response.destroyed) watcher.response.end();
}

/** Writes a framed chunk unless the watcher has fallen too far behind, in which case it is closed. */
function write(watcher: Watcher, chunkBytes: Buffer): void {
  const { response } = watcher;
  if (response.destroyed || response.writableEnded) return;
  if (response.writableLength > MAX_UNSENT_BYTES) {
    metrics.liveSlowClosed.inc();
    response.destroy();
    return;
  }
  const { socket } = response;
  // Straight to the socket when the response frames its body as chunks and holds nothing of its own back (as it
  // would behind a pipelined request's answer); otherwise the event unframed, through the response.
  if (socket && response.chunkedEncoding && response.writableLength === socket.writableLength) socket.write(chunkBytes);
  else response.write(chunkBytes.subarray(chunkBytes.indexOf("\r\n") + 2, -2));
  watcher.wroteAt = clock;
}

function send(watcher: Watcher, update: LiveUpdate, bytes: Buffer): void {
  if (update.offset <= watcher.sent) return;
  watcher.sent = update.offset;
  write(watcher, bytes);
}

function deliver(tokenId: string, update: LiveUpdate): void {
  const entry = batches.get(tokenId);
  if (!entry) return;
  const bytes = frame(update);
  for (const watcher of entry.watchers) {
    if (watcher.held) watcher.held.push(update);
    else send(watcher, update, bytes);
  }
  metrics.liveDeliveryLag.observe(Math.max(0, Date.now() - update.at) / 1000);
}

function attach(watcher: Watcher): Subscription {
  let entry = batches.get(watcher.tokenId);
  if (!entry) {
    const tokenId = watcher.tokenId;
    const subscription = trackingBus().subscribe(tokenId, (update) => deliver(tokenId, update));
    entry = { watchers: new Set(), subscription, checkedAt: Date.now() - Math.random() * RECHECK_MS };
    batches.set(tokenId, entry);
  }
  entry.watchers.add(watcher);
  metrics.liveStreams.inc();
  return entry.subscription;
}

function detach(watcher: Watcher): void {
  const entry = batches.get(watcher.tokenId);
  if (!entry?.watchers.delete(watcher)) return;
  if (!entry.watchers.size) {
    entry.subscription.stop();
    batches.delete(watcher.tokenId);
  }
  releaseSlot(watcher.slot);
  metrics.liveStreams.dec();
}

// One timer for every stream in the process, not one per stream.
let timersStarted = false;

function startTimers(): void {
  if (timersStarted) return;
  timersStarted = true;
  setInterval(() => {
    clock = Date.now();
    const quiet = clock - HEARTBEAT_MS;
    const renewBefore = clock - SLOT_RENEW_MS;
    const renew: Slot[] = [];
    // Plain loops, not a generator: every stream in the process is looked at each second.
    for (const { watchers } of batches.values()) {
      for (const watcher of watchers) {
        if (watcher.wroteAt <= quiet) write(watcher, HEARTBEAT);
        if (watcher.renewedAt <= renewBefore) {
          watcher.renewedAt = clock;
          renew.push(watcher.slot);
        }
      }
    }
    if (renew.length) {
      renewSlots(renew).catch((error: unknown) =>
        log.warn({ err: error }, "live stream: renewing the stream slots failed"),
      );
    }
    const due = clock - RECHECK_MS;
    const watching = new Map<string, Watcher[]>();
    for (const [tokenId, entry] of batches) {
      if (entry.checkedAt > due) continue;
      entry.checkedAt = Date.now();
      watching.set(tokenId, [...entry.watchers]);
    }
    if (watching.size) {
      recheck(watching).catch((error: unknown) =>
        log.warn({ err: error }, "live stream: access re-check failed; kept open"),
      );
    }
  }, TICK_MS).unref();
}

/** Closes the watchers that may no longer watch (one who came meanwhile was checked as it came). */
async function recheck(watching: Map<string, Watcher[]>): Promise<void> {
  const allowed = await stillWatching(
    new Map([...watching].map(([tokenId, watchers]) => [BigInt(tokenId), watchers.map((watcher) => watcher.user)])),
  );
  for (const [tokenId, watchers] of watching) {
    const addresses = allowed.get(BigInt(tokenId));
    for (const watcher of watchers) if (!addresses?.has(watcher.user.address)) close(watcher);
  }
}

async function authorize(request: http.IncomingMessage, tokenId: string): Promise<UserDto> {
  const session = await readSession(request.headers.cookie);
  const user = session && (await getUser(session.address));
  if (!user) throw new ApiError("unauthorized", "Sign in to watch a shipment.");
  const answer = await mayWatch(user, BigInt(tokenId));
  if (answer === "missing") throw new ApiError("not_found", `No batch with token id ${tokenId}.`);
  if (answer === "no") {
    throw new ApiError("forbidden", "Only the batch's owner, its transporter, its buyer and admins may watch it.");
  }
  return user;
}

async function slotFor(user: UserDto, address: string): Promise<Slot> {
  const slot = await takeSlot(user.address, address);
  if (typeof slot === "string") {
    const limit = slot === "user" ? env.LIVE_STREAMS_PER_USER : env.LIVE_STREAMS_PER_ADDRESS;
    throw new ApiError(
      "rate_limited",
      `Too many live streams open at once (${limit} per ${slot === "user" ? "user" : "address"}): close one first.`,
      undefined,
      { "retry-after": "5" },
    );
  }
  return slot;
}

function lastEventId(request: http.IncomingMessage): number | undefined {
  const value = request.headers["last-event-id"];
  return typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * `GET /api/crop-batches/{tokenId}/live`: the batch's positions as Server-Sent Events. A reconnect with
 * Last-Event-ID gets exactly what it missed, or the latest position when that is too far back; a new watcher gets
 * the latest position, then every update live.
 */
export async function serveLive(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  tokenId: string,
  address: string,
  sendError: (response: http.ServerResponse, error: ApiError) => void,
): Promise<void> {
  let watcher: Watcher;
  try {
    const user = await authorize(request, tokenId);
    watcher = {
      response,
      user,
      slot: await slotFor(user, address),
      tokenId,
      sent: 0,
      held: [],
      wroteAt: clock,
      renewedAt: clock,
    };
  } catch (error) {
    if (error instanceof ApiError) return sendError(response, error);
    throw error;
  }
  // Gone while it was being checked: nothing to attach (its close event has passed, so nothing would detach it).
  if (response.destroyed || request.socket.destroyed) return releaseSlot(watcher.slot);
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store, no-transform",
    "x-accel-buffering": "no",
    ...securityHeaders.api,
  });
  request.socket.setNoDelay(true);
  response.write(retryHint());
  // Subscribed before catching up: what is published meanwhile is held, then sent after the catch-up, each once.
  const subscription = attach(watcher);
  response.once("close", () => detach(watcher));
  startTimers();
  try {
    await withTimeout(subscription.ready, SUBSCRIBE_TIMEOUT_MS);
    for (const update of await catchUp(tokenId, lastEventId(request), watcher)) send(watcher, update, frame(update));
  } catch (error) {
    log.warn({ err: error, tokenId }, "live stream: catch-up failed; the watcher reconnects");
    close(watcher);
    return;
  }
  const held = watcher.held ?? [];
  watcher.held = null;
  for (const update of held) send(watcher, update, frame(update));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not subscribed within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What a watcher gets before the live updates: what it missed since `resumeFrom`, or the latest position. */
async function catchUp(tokenId: string, resumeFrom: number | undefined, watcher: Watcher): Promise<LiveUpdate[]> {
  const bus = trackingBus();
  if (resumeFrom !== undefined) {
    const missed = await bus.since(tokenId, resumeFrom);
    metrics.liveResumes.inc({ kind: missed ? "replayed" : "snapshot" });
    if (missed) {
      watcher.sent = resumeFrom;
      return missed;
    }
  }
  const latest = await bus.latest(tokenId);
  return latest ? [latest] : [];
}

/** A drain: every stream ends with a retry hint, so its watcher reconnects (to another instance) a moment later. */
export function endLiveStreams(): void {
  for (const watcher of [...batches.values()].flatMap(({ watchers }) => [...watchers])) {
    write(watcher, chunk(retryHint()));
    close(watcher);
  }
}
