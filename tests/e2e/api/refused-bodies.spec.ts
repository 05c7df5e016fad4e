import net from "node:net";
import { expect, test } from "@playwright/test";
import { craftSessionCookie, demoAddress } from "../support/auth";
import { HOST, PORT } from "../support/server";

type Answer = { status: number; headers: Record<string, string>; body: string };

/**
 * One keep-alive connection spoken to byte by byte, so a test controls exactly what is sent on it (a chunked body
 * written in full even after the server answered) and sees whether the server answers a second request on it.
 */
class Connection {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private readonly socket: net.Socket;
  closed = false;
  readonly ended: Promise<void>;

  constructor() {
    this.socket = net.connect(PORT, HOST);
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    // A server that closes while the body is still being written resets the connection: that is not the test's error.
    this.socket.on("error", () => undefined);
    this.ended = new Promise((resolve) =>
      this.socket.once("close", () => {
        this.closed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  send(method: string, path: string, headers: Record<string, string>, body?: Buffer): void {
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${HOST}:${PORT}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push("Content-Type: application/json", "Transfer-Encoding: chunked");
    this.socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (!body) return;
    for (let offset = 0; offset < body.length; offset += 16_384) {
      const chunk = body.subarray(offset, offset + 16_384);
      this.socket.write(`${chunk.length.toString(16)}\r\n`);
      this.socket.write(chunk);
      this.socket.write("\r\n");
    }
    this.socket.write("0\r\n\r\n");
  }

  private async until<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const taken = take();
      if (taken !== undefined) return taken;
      if (this.closed) throw new Error("the server closed the connection without a complete answer");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  /** The next answer on the connection (Content-Length or chunked). */
  async answer(): Promise<Answer> {
    const head = await this.until(() => {
      const end = this.buffer.indexOf("\r\n\r\n");
      return end < 0 ? undefined : this.take(end + 4).toString("latin1");
    });
    const [statusLine = "", ...headerLines] = head.trim().split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const parts: Buffer[] = [];
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const size = await this.until(() => {
          const end = this.buffer.indexOf("\r\n");
          return end < 0 ? undefined : Number.parseInt(this.take(end + 2).toString("latin1"), 16);
        });
        const chunk = await this.until(() => (this.buffer.length >= size + 2 ? this.take(size + 2) : undefined));
        if (size === 0) break;
        parts.push(chunk.subarray(0, size));
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      parts.push(await this.until(() => (this.buffer.length >= length ? this.take(length) : undefined)));
    }
    return { status: Number(statusLine.split(" ")[1]), headers, body: Buffer.concat(parts).toString("utf8") };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Valid JSON of about `bytes` bytes: over the 64 KiB the API reads. */
function jsonOf(bytes: number): Buffer {
  return Buffer.from(JSON.stringify({ cropType: "x".repeat(bytes) }));
}

const tooLarge = {
  error: {
    code: "bad_request",
    message: "The body is larger than 65536 bytes.",
    fields: [{ path: "(body)", message: "Larger than 65536 bytes" }],
  },
};

let farmer: string;
test.beforeAll(async () => {
  farmer = await craftSessionCookie(demoAddress("farmer").toLowerCase());
});

// The search is answered by the gateway itself; creating a batch and recording an event by Next's route handlers.
const lanes = [
  { name: "search (gateway)", path: "/api/crop-batches/search", signedIn: false },
  { name: "create a batch (Next)", path: "/api/crop-batches", signedIn: true },
  { name: "record an event (Next)", path: "/api/crop-batches/1/events", signedIn: true },
];

for (const lane of lanes) {
  test.describe(`POST ${lane.path}, ${lane.name}`, () => {
    const headers = (): Record<string, string> => (lane.signedIn ? { Cookie: farmer } : {});

    test("refuses a 512 KiB chunked body and answers the next request on the same connection", async () => {
      const connection = new Connection();
      try {
        connection.send("POST", lane.path, headers(), jsonOf(512 * 1024));
        const refused = await connection.answer();
        expect(refused.status).toBe(400);
        expect(JSON.parse(refused.body)).toEqual(tooLarge);
        expect(refused.headers.connection).not.toBe("close");

        connection.send("GET", "/api/health", {});
        const next = await connection.answer();
        expect(next.status).toBe(200);
        expect(JSON.parse(next.body)).toMatchObject({ database: { status: "up" } });
      } finally {
        connection.close();
      }
    });

    test("refuses a 2 MiB chunked body with Connection: close and closes the connection at once", async () => {
      const connection = new Connection();
      try {
        connection.send("POST", lane.path, headers(), jsonOf(2 * 1024 * 1024));
        const refused = await connection.answer();
        expect(refused.status).toBe(400);
        expect(JSON.parse(refused.body)).toEqual(tooLarge);
        expect(refused.headers.connection).toBe("close");
        // Not left open for the client to send a request that is never answered.
        await expect(connection.ended).resolves.toBeUndefined();
      } finally {
        connection.close();
      }
    });
  });
}
