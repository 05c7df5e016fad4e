import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import type { Fix } from "@/lib/tracking/fixes";

/**
 * One position of a batch on the move, as watchers get it: its offset in the batch's journey, when the server took it
 * (ms since the epoch, for the delivery lag without parsing the JSON per update) and its JSON.
 */
export type LiveUpdate = { offset: number; at: number; data: string };

export type Listener = (update: LiveUpdate) => void;

export type Subscription = { ready: Promise<void>; stop(): void };

/** What a watcher missed after `offset`, or null when the kept journey no longer reaches back that far. */
export type Missed = LiveUpdate[] | null;

/**
 * Positions per batch, in order, to every process that has watchers for it. Redis when configured (npm start without
 * it keeps everything in this process behind the same interface).
 */
export type TrackingBus = {
  publish(tokenId: string, fix: Fix): Promise<LiveUpdate>;
  /** Updates after `offset`, oldest first (at most KEPT_UPDATES); [] when there are none yet. */
  since(tokenId: string, offset: number): Promise<Missed>;
  latest(tokenId: string): Promise<LiveUpdate | null>;
  /** Every kept update of the journey (at most KEPT_UPDATES), oldest first. */
  journey(tokenId: string): Promise<LiveUpdate[]>;
  /**
   * Live updates from now on. Everything published after `ready` resolves arrives through `listener`; what came
   * before is for since() or latest(). stop() ends it.
   */
  subscribe(tokenId: string, listener: Listener): Subscription;
  /** The transporter's last accepted fix, which the next batch of fixes is checked against. */
  lastFix(address: string): Promise<Fix | null>;
  setLastFix(address: string, fix: Fix): Promise<void>;
  close(): Promise<void>;
};

// An hour of one fix per 5 s: a watcher away for longer gets the latest position instead of every one it missed.
export const KEPT_UPDATES = 720;
// A journey nobody updates for a week is over; its keys go.
const KEEP_SECONDS = 7 * 86_400;
const CATCH_UP_RETRY_MS = 500;

function toData(fix: Fix, at: number): string {
  return JSON.stringify({
    lat: fix.lat,
    lng: fix.lng,
    accuracy: fix.accuracy,
    time: fix.time.toISOString(),
    receivedAt: new Date(at).toISOString(),
  });
}

function parseFix(text: string): Fix {
  const { lat, lng, accuracy, time } = JSON.parse(text) as { lat: number; lng: number; accuracy: number; time: string };
  return { lat, lng, accuracy, time: new Date(time) };
}

/** Fans each update out to this process's listeners of its batch. */
class Listeners {
  private readonly byBatch = new Map<string, Set<Listener>>();

  add(tokenId: string, listener: Listener): { first: boolean } {
    let set = this.byBatch.get(tokenId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.byBatch.set(tokenId, set);
    }
    set.add(listener);
    return { first };
  }

  remove(tokenId: string, listener: Listener): { last: boolean } {
    const set = this.byBatch.get(tokenId);
    if (!set) return { last: false };
    set.delete(listener);
    if (set.size) return { last: false };
    this.byBatch.delete(tokenId);
    return { last: true };
  }

  deliver(tokenId: string, update: LiveUpdate): void {
    for (const listener of this.byBatch.get(tokenId) ?? []) listener(update);
  }

  batches(): string[] {
    return [...this.byBatch.keys()];
  }
}

export function memoryBus(): TrackingBus {
  const journeys = new Map<string, { offset: number; kept: LiveUpdate[] }>();
  const fixes = new Map<string, Fix>();
  const listeners = new Listeners();
  return {
    async publish(tokenId, fix) {
      const journey = journeys.get(tokenId) ?? { offset: Date.now(), kept: [] };
      journeys.set(tokenId, journey);
      journey.offset += 1;
      const at = Date.now();
      const update = { offset: journey.offset, at, data: toData(fix, at) };
      journey.kept.push(update);
      if (journey.kept.length > KEPT_UPDATES) journey.kept.shift();
      listeners.deliver(tokenId, update);
      return update;
    },
    async since(tokenId, offset) {
      const journey = journeys.get(tokenId);
      // An offset past the end is from before a restart: the latest position, not a wait for that offset.
      if (!journey || journey.offset <= offset) return (journey?.offset ?? 0) === offset ? [] : null;
      const first = journey.kept[0]?.offset ?? journey.offset + 1;
      return first > offset + 1 ? null : journey.kept.filter((update) => update.offset > offset);
    },
    async latest(tokenId) {
      return journeys.get(tokenId)?.kept.at(-1) ?? null;
    },
    async journey(tokenId) {
      return [...(journeys.get(tokenId)?.kept ?? [])];
    },
    subscribe(tokenId, listener) {
      listeners.add(tokenId, listener);
      return { ready: Promise.resolve(), stop: () => void listeners.remove(tokenId, listener) };
    },
    async lastFix(address) {
      return fixes.get(address) ?? null;
    },
    async setLastFix(address, fix) {
      fixes.set(address, fix);
    },
    async close() {},
  };
}

// One round trip per update, atomic: the next offset, the capped stream for catch-up, the latest and the publish. A
// journey's offsets start at the time (ms) its counter was made: should Redis lose its data, the new offsets still
// come after every earlier one (a batch gets far fewer than one update per ms), and watchers are not stuck behind.
const PUBLISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[5]) end
local offset = string.format('%d', redis.call('INCR', KEYS[1]))
local message = offset .. ' ' .. ARGV[5] .. ' ' .. ARGV[1]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], offset .. '-0', 'm', message)
redis.call('SET', KEYS[3], message, 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], message)
return offset
`;

/** "<offset> <at> <json>", as the publish script writes it to the channel, the stream and the latest. */
function parseMessage(message: string): LiveUpdate {
  const first = message.indexOf(" ");
  const second = message.indexOf(" ", first + 1);
  return {
    offset: Number(message.slice(0, first)),
    at: Number(message.slice(first + 1, second)),
    data: message.slice(second + 1),
  };
}

/**
 * Redis: per batch an offset counter, a capped stream (ids `<offset>-0`) to catch up from, the latest update and a
 * channel. One subscriber connection per process, subscribed to the batches this process has watchers for; after a
 * reconnect each of them catches up from the stream, so nothing published meanwhile is skipped.
 */
export function redisBus(url: string, prefix: string): TrackingBus {
  const options = { maxRetriesPerRequest: 1, connectTimeout: 2_000, enableOfflineQueue: false } as const;
  const commands = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  for (const [name, connection] of [
    ["commands", commands],
    ["subscriber", subscriber],
  ] as const) {
    connection.on("error", (error) => log.warn({ err: error, connection: name }, "tracking bus: redis error"));
  }
  // Commands fail at once while Redis is away (no offline queue), but not before the first connection is made: the
  // first request of a process would fail only because the bus was created for it.
  const firstReady = new Promise<void>((resolve) => commands.once("ready", () => resolve()));
  const client = async () => {
    if (commands.status !== "ready") await Promise.race([firstReady, delay(options.connectTimeout)]);
    return commands;
  };
  const listeners = new Listeners();
  const delivered = new Map<string, number>();
  // Per batch this process listens to: settles once Redis confirmed the subscription.
  const subscribing = new Map<string, Promise<void>>();
  const keys = (tokenId: string) => ({
    offset: `${prefix}live:${tokenId}:offset`,
    stream: `${prefix}live:${tokenId}:stream`,
    latest: `${prefix}live:${tokenId}:latest`,
    channel: `${prefix}live:${tokenId}`,
  });
  const channelPrefix = `${prefix}live:`;

  // Per batch catching up after a reconnect: the live messages that arrive meanwhile, delivered after what it missed
  // (delivered first, a newer message would make the missed ones look old and they would be dropped).
  const catchingUp = new Map<string, LiveUpdate[]>();
  const deliver = (tokenId: string, update: LiveUpdate) => {
    if (update.offset <= (delivered.get(tokenId) ?? 0)) return;
    delivered.set(tokenId, update.offset);
    listeners.deliver(tokenId, update);
  };

  const updatesOf = (entries: [string, string[]][]) => entries.map(([, fields]) => parseMessage(fields[1] ?? ""));
  /** The kept updates from `from` (a stream range start: "(42-0" after 42, "-" all), oldest first. */
  const kept = async (tokenId: string, from: string): Promise<LiveUpdate[]> =>
    updatesOf(await (await client()).xrange(keys(tokenId).stream, from, "+", "COUNT", KEPT_UPDATES));

  const since = async (tokenId: string, offset: number): Promise<Missed> => {
    const updates = await kept(tokenId, `(${offset}-0`);
    const first = updates[0];
    if (first && first.offset > offset + 1) return null;
    if (first) return updates;
    // Nothing after it: up to date, or an offset from before the keys expired or Redis lost them.
    return Number((await (await client()).get(keys(tokenId).offset)) ?? 0) === offset ? [] : null;
  };

  subscriber.on("message", (channel: string, message: string) => {
    const tokenId = channel.slice(channelPrefix.length);
    const update = parseMessage(message);
    const held = catchingUp.get(tokenId);
    if (held) held.push(update);
    else deliver(tokenId, update);
  });
  /**
   * After a reconnect: once subscribed again, what was published meanwhile comes from the streams. Should that fail
   * (the command connection may come back later than this one), it tries again while the live messages wait.
   */
  const catchUpAll = async (): Promise<void> => {
    const batches = listeners.batches();
    // Before the first await: a message may arrive as soon as the subscription is back.
    for (const tokenId of batches) if (!catchingUp.has(tokenId)) catchingUp.set(tokenId, []);
    try {
      if (batches.length) await subscriber.subscribe(...batches.map((tokenId) => keys(tokenId).channel));
      for (const tokenId of batches) {
        // null: Redis lost the journey and began it anew, so everything it now holds is new.
        const missed = (await since(tokenId, delivered.get(tokenId) ?? 0)) ?? (await kept(tokenId, "-"));
        for (const update of [...missed, ...(catchingUp.get(tokenId) ?? [])]) deliver(tokenId, update);
        catchingUp.delete(tokenId);
      }
    } catch (error) {
      log.warn({ err: error }, "tracking bus: catch-up after a reconnect failed; trying again");
      if (subscriber.status === "ready") setTimeout(() => void catchUpAll(), CATCH_UP_RETRY_MS).unref();
    }
  };
  let connectedBefore = false;
  subscriber.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    void catchUpAll();
  });

  return {
    async publish(tokenId, fix) {
      const names = keys(tokenId);
      const at = Date.now();
      const data = toData(fix, at);
      const offset = await (await client()).eval(
        PUBLISH,
        3,
        names.offset,
        names.stream,
        names.latest,
        data,
        KEPT_UPDATES,
        KEEP_SECONDS,
        names.channel,
        at,
      );
      return { offset: Number(offset), at, data };
    },
    since,
    async latest(tokenId) {
      const value = await (await client()).get(keys(tokenId).latest);
      return value ? parseMessage(value) : null;
    },
    async journey(tokenId) {
      return updatesOf(
        await (await client()).xrevrange(keys(tokenId).stream, "+", "-", "COUNT", KEPT_UPDATES),
      ).reverse();
    },
    subscribe(tokenId, listener) {
      const channel = keys(tokenId).channel;
      if (listeners.add(tokenId, listener).first)
        subscribing.set(
          tokenId,
          subscriber.subscribe(channel).then(() => {}),
        );
      return {
        ready: subscribing.get(tokenId) ?? Promise.resolve(),
        stop() {
          if (!listeners.remove(tokenId, listener).last) return;
          delivered.delete(tokenId);
          catchingUp.delete(tokenId);
          subscribing.delete(tokenId);
          void subscriber.unsubscribe(channel).catch(() => undefined);
        },
      };
    },
    async lastFix(address) {
      const value = await (await client()).get(`${prefix}live:fix:${address}`);
      return value ? parseFix(value) : null;
    },
    async setLastFix(address, fix) {
      await (await client()).set(`${prefix}live:fix:${address}`, toData(fix, Date.now()), "EX", KEEP_SECONDS);
    },
    async close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

// One bus per process: the gateway in server.ts and Next's route code share it.
const key = Symbol.for("greenledger.tracking-bus");
const holder = globalThis as typeof globalThis & { [key]?: TrackingBus };

export function trackingBus(): TrackingBus {
  holder[key] ??= env.REDIS_URL ? redisBus(env.REDIS_URL, env.REDIS_KEY_PREFIX) : memoryBus();
  return holder[key];
}

export async function closeTrackingBus(): Promise<void> {
  await holder[key]?.close();
  delete holder[key];
}
