import { randomUUID } from "node:crypto";
import { withRedis } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";

/** One open live stream, counted against its user's and its address's limits. */
export type Slot = { id: string; user: string; address: string };

// A slot lives this long in Redis unless its process renews it: the slots of an instance that died lapse by themselves.
export const SLOT_LEASE_MS = 45_000;

// Both limits checked and both slots taken in one step, so two instances cannot each take the last one.
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 0
`;

const userKey = (user: string) => `${env.REDIS_KEY_PREFIX}live:slots:user:${user}`;
const addressKey = (address: string) => `${env.REDIS_KEY_PREFIX}live:slots:address:${address}`;

// This process's own streams, counted whatever Redis does: the limits while Redis is away, and a first check.
const localPerUser = new Map<string, number>();
const localPerAddress = new Map<string, number>();

function count(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

/**
 * A slot for a stream of `user` from `address`, or which limit it would pass. Across every instance when Redis is
 * there (sorted sets of leased slots); within this process when it is not, or while its circuit is open.
 */
export async function takeSlot(user: string, address: string): Promise<Slot | "user" | "address"> {
  if ((localPerUser.get(user) ?? 0) >= env.LIVE_STREAMS_PER_USER) return "user";
  if ((localPerAddress.get(address) ?? 0) >= env.LIVE_STREAMS_PER_ADDRESS) return "address";
  const slot = { id: randomUUID(), user, address };
  const now = Date.now();
  const shared = await withRedis(
    (redis) =>
      redis.eval(
        TAKE,
        2,
        userKey(user),
        addressKey(address),
        now,
        now + SLOT_LEASE_MS,
        slot.id,
        env.LIVE_STREAMS_PER_USER,
        env.LIVE_STREAMS_PER_ADDRESS,
        SLOT_LEASE_MS,
      ) as Promise<number>,
  );
  if (shared === 1) return "user";
  if (shared === 2) return "address";
  count(localPerUser, user, 1);
  count(localPerAddress, address, 1);
  return slot;
}

export function releaseSlot(slot: Slot): void {
  count(localPerUser, slot.user, -1);
  count(localPerAddress, slot.address, -1);
  void withRedis((redis) =>
    redis.multi().zrem(userKey(slot.user), slot.id).zrem(addressKey(slot.address), slot.id).exec(),
  );
}

/** Extends the leases of this process's open slots (and puts them back after Redis lost them): one write per key. */
export async function renewSlots(slots: Iterable<Slot>): Promise<void> {
  const members = new Map<string, string[]>();
  const score = String(Date.now() + SLOT_LEASE_MS);
  for (const slot of slots) {
    for (const key of [userKey(slot.user), addressKey(slot.address)]) {
      let list = members.get(key);
      if (!list) {
        list = [];
        members.set(key, list);
      }
      list.push(score, slot.id);
    }
  }
  if (!members.size) return;
  await withRedis((redis) => {
    const pipeline = redis.pipeline();
    for (const [key, list] of members) pipeline.zadd(key, ...list).pexpire(key, SLOT_LEASE_MS);
    return pipeline.exec();
  });
}
