import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { POST as postPositions } from "@/app/api/transporters/me/positions/route";
import { db } from "@/lib/db/client";
import { createGateway } from "@/lib/http/gateway";
import { endLiveStreams } from "@/lib/http/live-lane";
import { metrics } from "@/lib/metrics/metrics";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";
import { openStream, type SseStream } from "@/tests/support/sse";
import { until } from "@/tests/support/until";

// Fixes 5 s and about 55 m apart: a truck at 40 km/h, ending a moment ago.
function drive(count: number, from = { lat: 52.0, lng: 4.3 }, endedSecondsAgo = 1) {
  const now = Date.now();
  return Array.from({ length: count }, (_, index) => ({
    lat: from.lat + index * 0.0005,
    lng: from.lng,
    accuracy: 8,
    time: new Date(now - (endedSecondsAgo + (count - 1 - index) * 5) * 1000).toISOString(),
  }));
}

async function openStreams(): Promise<number> {
  return (await metrics.liveStreams.get()).values[0]?.value ?? 0;
}

describe("live tracking: positions in, Server-Sent Events out", () => {
  let server: http.Server;
  let base: string;
  let farmer: TestUser;
  let farmId: number;
  let streams: SseStream[] = [];

  beforeAll(async () => {
    server = http.createServer(
      createGateway(async (_request, response) => {
        response.writeHead(404).end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A batch of the farmer's, shipped with a new transporter: in transit. */
  async function shipment(): Promise<{ tokenId: number; transporter: TestUser }> {
    const transporter = await userWithRole("transporter");
    const created = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: farmer.cookie });
    const tokenId = created.body.tokenId as number;
    const shipped = await call(
      recordEvent,
      { tokenId: String(tokenId) },
      {
        method: "POST",
        body: { action: "ship", transporter: transporter.address, location: { lat: 52.1, lng: 4.3 } },
        cookie: farmer.cookie,
      },
    );
    expect(shipped.status).toBe(201);
    return { tokenId, transporter };
  }

  const send = (transporter: TestUser | null, fixes: unknown[]) =>
    call(postPositions, {}, { method: "POST", body: { fixes }, cookie: transporter?.cookie });

  async function watch(tokenId: number, user: TestUser, headers: Record<string, string> = {}): Promise<SseStream> {
    const stream = await openStream(`${base}/api/crop-batches/${tokenId}/live`, { cookie: user.cookie, ...headers });
    streams.push(stream);
    return stream;
  }

  it("streams a shipment's positions to its watchers, each batch only its own, with the SSE headers", async () => {
    const a = await shipment();
    const b = await shipment();
    const watchA = await watch(a.tokenId, farmer);
    const watchB = await watch(b.tokenId, farmer);
    expect(watchA.status).toBe(200);
    expect(watchA.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(watchA.headers["cache-control"]).toBe("no-store, no-transform");
    expect(watchA.events[0]?.retry).toBeGreaterThanOrEqual(2_000);

    const sentA = await send(a.transporter, drive(3));
    expect(sentA.status).toBe(200);
    expect(sentA.body).toEqual({ accepted: 3, rejected: [], shipments: [String(a.tokenId)] });
    expect(await send(b.transporter, drive(1, { lat: 48.1, lng: 11.5 }))).toMatchObject({ status: 200 });

    const eventsA = await watchA.waitFor(3);
    expect(eventsA.map((event) => event.event)).toEqual(["position", "position", "position"]);
    const first = Number(eventsA[0]?.id);
    expect(eventsA.map((event) => Number(event.id))).toEqual([first, first + 1, first + 2]);
    expect(JSON.parse(eventsA[2]?.data ?? "")).toMatchObject({ lat: 52.001, lng: 4.3, accuracy: 8 });
    const eventsB = await watchB.waitFor(1);
    expect(eventsB).toHaveLength(1);
    expect(JSON.parse(eventsB[0]?.data ?? "")).toMatchObject({ lat: 48.1, lng: 11.5 });
    expect(watchA.events.filter((event) => event.data)).toHaveLength(3);
  });

  it("lets only the owner, the transporter, an accepted buyer and admins watch", async () => {
    const { tokenId, transporter } = await shipment();
    const buyer = await userWithRole("buyer");
    const admin = await userWithRole("admin");
    const anonymous = await openStream(`${base}/api/crop-batches/${tokenId}/live`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: { code: "unauthorized" } });
    const stranger = await watch(tokenId, buyer);
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body)).toMatchObject({ error: { code: "forbidden" } });
    expect((await watch(999_999_999, farmer)).status).toBe(404);

    await db.purchaseOffer.create({
      data: { tokenId: BigInt(tokenId), buyerAddress: buyer.address, status: "accepted" },
    });
    for (const user of [buyer, transporter, admin, farmer]) expect((await watch(tokenId, user)).status).toBe(200);
  });

  it("resumes from Last-Event-ID with exactly what was missed, and sends the latest when the id is unknown", async () => {
    const { tokenId, transporter } = await shipment();
    const first = await watch(tokenId, farmer);
    await send(transporter, drive(2, { lat: 52, lng: 4.3 }, 120));
    const seen = await first.waitFor(2);
    first.close();
    // 20 more while the watcher is away, each 5 s after the last.
    expect((await send(transporter, drive(20, { lat: 52.001, lng: 4.3 }, 1))).body.accepted).toBe(20);

    const last = Number(seen[1]?.id);
    const resumed = await watch(tokenId, farmer, { "last-event-id": String(last) });
    const replayed = await resumed.waitFor(20);
    expect(replayed.map((event) => Number(event.id))).toEqual(
      Array.from({ length: 20 }, (_, index) => last + 1 + index),
    );

    const unknown = await watch(tokenId, farmer, { "last-event-id": "12" });
    const snapshot = await unknown.waitFor(1);
    expect(snapshot.map((event) => Number(event.id))).toEqual([last + 20]);
  });

  it("rejects unbelievable fixes with a reason, and positions from someone who carries nothing", async () => {
    const { transporter } = await shipment();
    const now = Date.now();
    const answer = await send(transporter, [
      { lat: 52, lng: 4.3, accuracy: 10, time: new Date(now - 20_000).toISOString() },
      { lat: 52, lng: 4.3, accuracy: 10, time: new Date(now + 600_000).toISOString() },
      // 2.8 km in 10 s: about 1,000 km/h.
      { lat: 52.025, lng: 4.3, accuracy: 10, time: new Date(now - 10_000).toISOString() },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.accepted).toBe(1);
    expect(answer.body.rejected).toEqual([
      { index: 1, reason: "future" },
      { index: 2, reason: "too_fast" },
    ]);
    const idle = await userWithRole("transporter");
    expect(await send(idle, drive(1))).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    expect(await send(farmer, drive(1))).toMatchObject({ status: 403 });
    expect(await send(null, drive(1))).toMatchObject({ status: 401 });
    expect(await send(transporter, [{ lat: "north" }])).toMatchObject({ status: 400 });
  });

  it("limits position batches per transporter and open streams per user (429 with Retry-After)", async () => {
    const { tokenId, transporter } = await shipment();
    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      statuses.push((await send(transporter, drive(1, { lat: 52, lng: 4.3 + index * 0.0001 }, 6 - index))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

    const watcher = await userWithRole("admin");
    for (let index = 0; index < 10; index += 1) expect((await watch(tokenId, watcher)).status).toBe(200);
    const eleventh = await watch(tokenId, watcher);
    expect(eleventh.status).toBe(429);
    expect(eleventh.headers["retry-after"]).toBeDefined();
  });

  it("streams to an HTTP/1.0 client without chunked framing, and to an HTTP/1.1 one as valid chunks", async () => {
    const { tokenId, transporter } = await shipment();
    const raw = (version: string) => {
      const socket = net.connect(Number(new URL(base).port), "127.0.0.1");
      let text = "";
      socket.on("data", (bytes) => {
        text += bytes.toString();
      });
      socket.write(
        `GET /api/crop-batches/${tokenId}/live HTTP/${version}\r\nHost: 127.0.0.1\r\nCookie: ${farmer.cookie}\r\n\r\n`,
      );
      return { socket, text: () => text };
    };
    const old = raw("1.0");
    const chunked = raw("1.1");
    await until(async () => old.text().includes("retry:") && chunked.text().includes("retry:"));
    await send(transporter, drive(2));
    await until(async () => [old, chunked].every((client) => client.text().split("event: position").length === 3));
    for (const client of [old, chunked]) client.socket.destroy();

    const [oldHead, oldBody] = old.text().split("\r\n\r\n", 2) as [string, string];
    expect(oldHead.toLowerCase()).not.toContain("transfer-encoding");
    expect(oldBody).toMatch(
      /^retry: \d+\n\nid: (\d+)\nevent: position\ndata: \{[^\n]+\}\n\nid: \d+\nevent: position\n/,
    );
    const [chunkedHead, chunkedBody] = chunked.text().split(/\r\n\r\n(.*)/s, 2) as [string, string];
    expect(chunkedHead.toLowerCase()).toContain("transfer-encoding: chunked");
    // Every chunk's size line matches the bytes that follow it.
    let rest = Buffer.from(chunkedBody);
    const events: string[] = [];
    while (rest.length) {
      const end = rest.indexOf("\r\n");
      const size = Number.parseInt(rest.subarray(0, end).toString(), 16);
      events.push(rest.subarray(end + 2, end + 2 + size).toString());
      expect(rest.subarray(end + 2 + size, end + 4 + size).toString()).toBe("\r\n");
      rest = rest.subarray(end + 4 + size);
    }
    expect(events[0]).toMatch(/^retry: \d+\n\n$/);
    expect(events.slice(1).map((event) => event.split("\n")[1])).toEqual(["event: position", "event: position"]);
  });

  it("releases the subscription when its watchers leave, and ends every stream with a retry hint on a drain", async () => {
    for (const stream of streams) stream.close();
    streams = [];
    await until(async () => (await openStreams()) === 0);
    const { tokenId } = await shipment();
    const watchers = [await watch(tokenId, farmer), await watch(tokenId, farmer)];
    await until(async () => (await openStreams()) === 2);
    endLiveStreams();
    await Promise.all(watchers.map((stream) => stream.ended));
    for (const stream of watchers) expect(stream.events.at(-1)?.retry).toBeGreaterThanOrEqual(2_000);
    await until(async () => (await openStreams()) === 0);
  });
});
