import { readFileSync } from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

/**
 * One of the upload benchmark's client processes (forked by bench/uploads.ts): reads its share of the files into
 * memory, then at the moment it is told starts each upload at its own offset from it, on plain node:http with a
 * keep-alive agent, and times each from the start of its first request to its last answer. Driven over IPC:
 * load -> go -> results.
 */

/** `creation`: one POST carrying the whole file (tus creation-with-upload); `post-patch`: POST, then PATCH. */
export type UploadMode = "creation" | "post-patch";

export type ClientUpload = { id: string; file: string; size: number; offsetMs: number };

export type ClientCommand =
  | { type: "load"; port: number; path: string; cookie: string; mode: UploadMode; uploads: ClientUpload[] }
  | { type: "go"; at: number };

export type UploadResult = {
  id: string;
  /** When its first request started (ms since the epoch, fractional) and how late that was against its schedule. */
  startedAt: number;
  lateMs: number;
  ms: number;
  /** The last answer's status (0: no answer), and what went wrong if anything did. */
  status: number;
  error?: string;
};

export type ClientMessage =
  | { type: "loaded"; bytes: number }
  | {
      type: "results";
      results: UploadResult[];
      cpuMs: number;
      loopDelayP99: number;
      loopDelayMax: number;
    };

const TIMEOUT_MS = 120_000;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, method, path, agent, headers, timeout: TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.on("error", reject);
    request.end(body);
  });
}

type Loaded = Extract<ClientCommand, { type: "load" }>;

async function upload(load: Loaded, item: ClientUpload, bytes: Buffer, scheduled: number): Promise<UploadResult> {
  const common = { "tus-resumable": "1.0.0", cookie: load.cookie };
  const metadata = `attachmentId ${Buffer.from(item.id).toString("base64")}`;
  const started = performance.now();
  const startedAt = performance.timeOrigin + started;
  const result = (status: number, error?: string): UploadResult => ({
    id: item.id,
    startedAt,
    lateMs: startedAt - scheduled,
    ms: performance.now() - started,
    status,
    ...(error ? { error } : {}),
  });
  try {
    if (load.mode === "creation") {
      const answer = await send(
        load.port,
        "POST",
        load.path,
        {
          ...common,
          "upload-length": String(bytes.length),
          "upload-metadata": metadata,
          "content-type": "application/offset+octet-stream",
          "content-length": String(bytes.length),
        },
        bytes,
      );
      if (answer.status !== 201) return result(answer.status, answer.body.slice(0, 200));
      if (Number(answer.headers["upload-offset"]) !== bytes.length) {
        return result(answer.status, `Upload-Offset ${answer.headers["upload-offset"]} of ${bytes.length}`);
      }
      return result(answer.status);
    }
    const created = await send(load.port, "POST", load.path, {
      ...common,
      "upload-length": String(bytes.length),
      "upload-metadata": metadata,
      "content-length": "0",
    });
    const location = created.headers.location;
    if (created.status !== 201 || !location) return result(created.status, created.body.slice(0, 200));
    const patched = await send(
      load.port,
      "PATCH",
      new URL(location, `http://127.0.0.1:${load.port}`).pathname,
      {
        ...common,
        "upload-offset": "0",
        "content-type": "application/offset+octet-stream",
        "content-length": String(bytes.length),
      },
      bytes,
    );
    if (patched.status !== 204) return result(patched.status, patched.body.slice(0, 200));
    if (Number(patched.headers["upload-offset"]) !== bytes.length) {
      return result(patched.status, `Upload-Offset ${patched.headers["upload-offset"]} of ${bytes.length}`);
    }
    return result(patched.status);
  } catch (error) {
    return result(0, (error as Error).message);
  }
}

let loaded: Loaded | undefined;
let files: Buffer[] = [];

process.on("message", async (command: ClientCommand) => {
  if (command.type === "load") {
    loaded = command;
    files = command.uploads.map((item) => readFileSync(item.file));
    process.send?.({ type: "loaded", bytes: files.reduce((sum, bytes) => sum + bytes.length, 0) } as ClientMessage);
    return;
  }
  const load = loaded;
  if (!load) throw new Error("go before load");
  const cpu = process.cpuUsage();
  loopDelay.enable();
  const results = await Promise.all(
    load.uploads.map(
      (item, index) =>
        new Promise<UploadResult>((resolve) => {
          const scheduled = command.at + item.offsetMs;
          setTimeout(
            () => resolve(upload(load, item, files[index] as Buffer, scheduled)),
            Math.max(0, scheduled - Date.now()),
          );
        }),
    ),
  );
  loopDelay.disable();
  const used = process.cpuUsage(cpu);
  process.send?.(
    {
      type: "results",
      results,
      cpuMs: (used.user + used.system) / 1000,
      loopDelayP99: loopDelay.percentile(99) / 1e6,
      loopDelayMax: loopDelay.max / 1e6,
    } as ClientMessage,
    undefined,
    undefined,
    () => process.exit(0),
  );
});
