import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import * as tus from "tus-js-client";
import { createTestClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Child, start } from "@/bench/processes";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { type Swift, s3Env, startSwift } from "@/deploy/local/swift";
import type { AttachmentDto } from "@/lib/attachments/attachment-dto";
import { CLAIM_SECONDS } from "@/lib/attachments/limits";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { deployCropBatch } from "@/lib/chain/deploy-crop-batch";
import { devAccount, privateKeyOf } from "@/tests/chain/support/chain-world";
import { newBatch } from "@/tests/support/api";
import { countingProxy } from "@/tests/support/counting-proxy";
import { farmerWithFarm } from "@/tests/support/farmer";
import { CERTIFICATE } from "@/tests/support/files";
import { noisePdf, noisePhoto } from "@/tests/support/noise-files";
import { until } from "@/tests/support/until";
import type { ClientLogLine, Declaration, Outbox } from "@/tests/support/upload-client";

const CHAIN_ID = 31337;
const KIB = 1024;
const MIB = 1024 * KIB;

// Case 1: a 3.5 MB certificate sent in 256 KiB chunks over a 2 MiB/s link, so the kill lands mid-upload.
const BIG_PDF_BYTES = 3.5 * MIB;
const CLIENT_CHUNK = 256 * KIB;
const LINK_BYTES_PER_SECOND = 2 * MIB;

// Case 2: 200 uploads at once, every tenth of each kind the same bytes as one before it (kept once when stored).
const UPLOADS = 200;
const PHOTO_BYTES = 200 * KIB;
const PDF_BYTES = 150 * KIB;
// The uploads go in two waves of half each; the second starts once this many are in, and the server is killed while
// it is being received and the worker holds a file. (Sent all at once, the S3 store answered them in one late burst,
// so the worker was seen holding a file only after the last had ended: no upload was cut off.)
const CRASH_AFTER_DONE = UPLOADS / 4;
// How long the clients keep trying while the server is away: it takes 8-30 s to start again on this shared machine.
const SERVER_AWAY_MS = 90_000;
const RETRY_DELAYS = [100, 250, 500, ...Array<number>(SERVER_AWAY_MS / 1_000).fill(1_000)];
const READY_WITHIN_MS = 90_000;
// With S3 the worker mostly waits on the store, not on the CPU.
const PROCESSING_CONCURRENCY = 4;

/** Runs `task` on every item, `width` at a time. */
async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        if (item !== undefined) await task(item);
      }
    }),
  );
}

type Fixtures = { bigPdf: Buffer; photos: Buffer[]; pdfs: Buffer[] };
let made: Promise<Fixtures> | undefined;

/** The files both stores are sent, made once: every tenth photo and PDF has the same bytes as the one before it. */
function fixtures(): Promise<Fixtures> {
  made ??= (async () => {
    const bigPdf = await noisePdf(BIG_PDF_BYTES, 3);
    const photos: Buffer[] = [];
    const pdfs: Buffer[] = [];
    for (let index = 0; index < UPLOADS / 2; index++) {
      const repeat = index % 10 === 9;
      photos.push(repeat ? (photos.at(-1) as Buffer) : await noisePhoto(PHOTO_BYTES));
      pdfs.push(repeat ? (pdfs.at(-1) as Buffer) : await noisePdf(PDF_BYTES));
    }
    return { bigPdf, photos, pdfs };
  })();
  return made;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const photoDeclaration = (bytes: Buffer): Declaration => ({
  id: randomUUID(),
  kind: "photo",
  type: "image/jpeg",
  size: bytes.length,
});
const certificateDeclaration = (bytes: Buffer): Declaration => ({
  id: randomUUID(),
  kind: "certificate",
  type: "application/pdf",
  size: bytes.length,
  fileName: "certificate.pdf",
  certificate: CERTIFICATE,
});

describe.each([["disk"], ["s3"]] as const)("uploads on the %s store, to the real server", (store) => {
  let cluster: PgCluster;
  let anvil: AnvilInstance;
  let swift: Swift | undefined;
  let s3: S3Client | undefined;
  let sql: pg.Pool;
  let server: ServerProcess;
  let serverEnv: Record<string, string>;
  let cookie: string;
  let farmId: number;
  const logDir = mkdtempSync(path.join(tmpdir(), `gl-uploads-${store}-`));
  const dataDir = path.join(logDir, "data");

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    cluster = pgCluster();
    // The chain is the test's own: a server killed with SIGKILL would leave its embedded anvil running.
    const [{ url }, startedAnvil, startedSwift] = await Promise.all([
      cluster.start(),
      startAnvil({ port: 0, chainId: CHAIN_ID, blockTime: 1 }),
      store === "s3" ? startSwift() : undefined,
      fixtures(),
    ]);
    anvil = startedAnvil;
    swift = startedSwift;
    const relayerKey = generatePrivateKey();
    const relayer = privateKeyToAccount(relayerKey).address;
    const deployed = await deployCropBatch({ rpcUrl: anvil.rpcUrl, deployerKey: privateKeyOf(devAccount(0)), relayer });
    await createTestClient({ mode: "anvil", transport: http(anvil.rpcUrl) }).setBalance({
      address: relayer,
      value: parseEther("100"),
    });
    serverEnv = {
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      CHAIN_RPC_URL: anvil.rpcUrl,
      CHAIN_ID: String(CHAIN_ID),
      CROP_BATCH_ADDRESS: deployed.address,
      CHAIN_START_BLOCK: String(deployed.blockNumber),
      CHAIN_CONFIRMATIONS: "1",
      RELAYER_PRIVATE_KEY: relayerKey,
      LOG_LEVEL: "warn",
      ATTACHMENT_CONCURRENCY: String(PROCESSING_CONCURRENCY),
      ...(swift ? s3Env(swift) : {}),
    };
    if (swift) {
      s3 = new S3Client({
        endpoint: swift.endpoint,
        region: swift.region,
        credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
        forcePathStyle: true,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
    }
    server = await startServerProcess("server", logDir, serverEnv);
    sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => undefined);
    ({ farmId, cookie } = await farmerWithFarm(sql));
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await server?.child.stop();
    s3?.destroy();
    await swift?.stop();
    await anvil?.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  const api = async (pathname: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${server.baseUrl}${pathname}`, {
      method: init.method ?? "GET",
      headers: { "content-type": "application/json", cookie },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: await response.json() };
  };

  const newBatchId = async (): Promise<number> => {
    const created = await api("/api/crop-batches", { method: "POST", body: newBatch(farmId) });
    expect(created.status).toBe(201);
    return created.body.tokenId as number;
  };

  /** The server's offset of an upload, asked directly (not through the test's proxy); null before it exists. */
  const serverOffset = async (id: string): Promise<number | null> => {
    const response = await fetch(`${server.baseUrl}/api/uploads/${id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie },
    });
    return response.status === 200 ? Number(response.headers.get("upload-offset")) : null;
  };

  /** The SHA-256 names of the stored files, read from the store itself. */
  const storedFiles = async (): Promise<string[]> => {
    if (!s3 || !swift) {
      const folder = path.join(dataDir, "files");
      if (!existsSync(folder)) return [];
      const names = await readdir(folder, { recursive: true });
      return names.map((name) => path.basename(name)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    }
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: swift.bucket, Prefix: "files/", ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
      token = page.NextContinuationToken;
    } while (token);
    return keys.map((key) => key.slice("files/".length));
  };

  const attachmentsOf = async (tokenId: number) =>
    (
      await sql.query<{
        id: string;
        kind: string;
        status: string;
        sha256: string | null;
        thumb_sha256: string | null;
        icon_sha256: string | null;
      }>("SELECT id, kind, status, sha256, thumb_sha256, icon_sha256 FROM attachments WHERE token_id = $1", [tokenId])
    ).rows;

  const certificateEvents = async (tokenId: number) =>
    Number(
      (
        await sql.query<{ n: string }>(
          "SELECT count(*) AS n FROM batch_events WHERE token_id = $1 AND biz_step = 'inspecting'",
          [tokenId],
        )
      ).rows[0]?.n,
    );

  /** The uploads the upload store still holds (tus's files, or objects outside `files/`), by attachment id. */
  const leftOverUploads = async (): Promise<string[]> => {
    const names: string[] = [];
    if (!s3 || !swift) names.push(...(await readdir(path.join(dataDir, "uploads")).catch(() => [])));
    else {
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: swift.bucket, ContinuationToken: token }));
        names.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
        token = page.NextContinuationToken;
      } while (token);
    }
    // An upload is its bytes and its .json (disk), .info or .part (S3).
    return [...new Set(names.filter((name) => !name.startsWith("files/")).map((name) => name.split(".")[0] ?? ""))];
  };

  /** How many of a batch's attachments are in each status, and how many received ones a worker has claimed. */
  const standing = async (tokenId: number) =>
    Object.fromEntries(
      (
        await sql.query<{ status: string; n: string }>(
          // A claim's next attempt lies further ahead than half a claim; a retry's backoff never does.
          `SELECT CASE WHEN status = 'received' AND next_attempt_at > now() + make_interval(secs => $2)
                       THEN 'received, claimed' ELSE status::text END AS status, count(*) AS n
             FROM attachments WHERE token_id = $1 GROUP BY 1 ORDER BY 1`,
          [tokenId, CLAIM_SECONDS / 2],
        )
      ).rows.map((row) => [row.status, Number(row.n)]),
    );

  it("a client killed at 50 % of a 3.5 MB upload and restarted from its outbox resumes the same upload: the same SHA-256, at most one chunk sent twice", async () => {
    const tokenId = await newBatchId();
    const bytes = (await fixtures()).bigPdf;
    const file = path.join(logDir, "certificate.pdf");
    writeFileSync(file, bytes);
    const proxy = await countingProxy(server.baseUrl, "/api/uploads", LINK_BYTES_PER_SECOND);
    const declaration = certificateDeclaration(bytes);
    const outboxFile = path.join(logDir, "outbox.json");
    const outbox: Outbox = {
      baseUrl: proxy.url,
      cookie,
      tokenId,
      file,
      chunkSize: CLIENT_CHUNK,
      declaration,
    };
    writeFileSync(outboxFile, JSON.stringify(outbox));
    const clients: Child[] = [];
    const runClient = (name: string): Child => {
      const client = start(name, process.execPath, ["--import", "tsx", "tests/support/upload-client.ts", outboxFile], {
        logDir,
        env: { TSX_TSCONFIG_PATH: "tsconfig.server.json" },
      });
      clients.push(client);
      return client;
    };

    let offsetAtKill = 0;
    let sentBeforeKill = 0;
    try {
      const first = runClient("client-1");
      await until(async () => {
        if (first.exited) throw new Error(`the client ended before the kill; see ${first.logFile}`);
        offsetAtKill = (await serverOffset(declaration.id)) ?? 0;
        return offsetAtKill >= bytes.length / 2;
      }, 30_000);
      await first.kill();
      // What the killed client had written to its socket still arrives, until its connection closes.
      await until(async () => proxy.openRequests() === 0);
      sentBeforeKill = proxy.bodyBytes();
      expect(offsetAtKill).toBeLessThan(bytes.length);

      const second = runClient("client-2");
      await until(async () => second.exited, 30_000);
      expect(second.exitCode, `see ${second.logFile}`).toBe(0);
    } finally {
      for (const client of clients) await client.kill();
      await proxy.close();
    }

    const log = readFileSync(`${outboxFile}.log`, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ClientLogLine);
    const pids = [...new Set(log.map((line) => line.pid))];
    expect(pids).toHaveLength(2);
    const secondRun = log.filter((line) => line.pid === pids[1]);
    // The restarted client asked the server where the upload stood, at the URL its outbox kept, and created nothing.
    const uploadUrl = (JSON.parse(readFileSync(outboxFile, "utf8")) as Outbox).uploadUrl;
    expect(secondRun[0]).toMatchObject({ event: "response", method: "HEAD", url: uploadUrl, status: 200 });
    const resumedAt = secondRun[0]?.event === "response" ? (secondRun[0].uploadOffset ?? 0) : 0;
    expect(resumedAt).toBeGreaterThanOrEqual(offsetAtKill);
    expect(secondRun.filter((line) => line.event === "response" && line.method === "POST")).toEqual([]);
    expect(secondRun.at(-1)).toMatchObject({ event: "done" });

    const sentInAll = proxy.bodyBytes();
    const sentAfterRestart = sentInAll - sentBeforeKill;
    const figures = {
      store,
      size: bytes.length,
      chunk: CLIENT_CHUNK,
      "server offset at the kill": offsetAtKill,
      "offset the restarted client resumed at": resumedAt,
      "sent before the kill": sentBeforeKill,
      "sent after the restart": sentAfterRestart,
      "sent twice": sentInAll - bytes.length,
    };
    console.log(`upload resumed after the client was killed:\n${JSON.stringify(figures, null, 2)}`);
    expect(sentAfterRestart).toBeLessThanOrEqual(bytes.length - offsetAtKill + CLIENT_CHUNK);
    expect(sentInAll - bytes.length).toBeLessThanOrEqual(CLIENT_CHUNK);

    let ready: AttachmentDto | undefined;
    await until(async () => {
      ready = (await api(`/api/attachments/${declaration.id}`)).body as AttachmentDto;
      return ready.status === "ready" || ready.status === "rejected";
    }, 20_000);
    expect(ready).toMatchObject({ status: "ready", sha256: sha256(bytes), pages: 3 });
    const served = await fetch(`${server.baseUrl}${ready?.fileUrl}`);
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(sha256(bytes));
    expect(await storedFiles()).toContain(sha256(bytes));
    expect(await attachmentsOf(tokenId)).toHaveLength(1);
    expect(await certificateEvents(tokenId)).toBe(1);
    // The certificate's event, which carries the file's SHA-256, is anchored on the chain by the relayer and seen
    // there by the indexer.
    let verified: { hashMatches: boolean; eventIntact: boolean; anchor: unknown } | undefined;
    await until(async () => {
      verified = (await api(`/api/verify/${tokenId}`)).body.certificates?.[0];
      return Boolean(verified?.anchor);
    }, 30_000).catch(() => undefined);
    expect(verified).toMatchObject({
      hashMatches: true,
      eventIntact: true,
      anchor: { eventHash: expect.stringMatching(/^[0-9a-f]{64}$/), blockNumber: expect.any(Number) },
    });
  });

  it(`the server killed (-9) and started again during ${UPLOADS} concurrent uploads: all ready after the clients' retries, none twice`, async () => {
    const declaring = Date.now();
    const tokenId = await newBatchId();
    const { photos, pdfs } = await fixtures();
    const uploads = photos.flatMap((photo, index) => {
      const pdf = pdfs[index] ?? Buffer.alloc(0);
      return [
        { bytes: photo, declaration: photoDeclaration(photo), retries: 0, finalStatus: "" },
        { bytes: pdf, declaration: certificateDeclaration(pdf), retries: 0, finalStatus: "" },
      ];
    });
    const distinctPhotos = new Set(uploads.filter((u) => u.declaration.kind === "photo").map((u) => sha256(u.bytes)));
    const distinctPdfs = new Set(
      uploads.filter((u) => u.declaration.kind === "certificate").map((u) => sha256(u.bytes)),
    );
    await inParallel(uploads, 8, async (upload) => {
      const declared = await api(`/api/crop-batches/${tokenId}/attachments`, {
        method: "POST",
        body: upload.declaration,
      });
      expect(declared.status).toBe(201);
    });
    const filesBefore = new Set(await storedFiles());

    const started = Date.now();
    let done = 0;
    let killedAt = 0;
    let restartedAt = 0;
    let atKill: Record<string, number> = {};
    // Once the second wave is on its way, and while the worker is processing some: a kill -9 then cuts both uploads and
    // processing off. The server is frozen while that is checked, so no file it holds can finish between the check and
    // the kill.
    let secondWave = false;
    const frozenWhileProcessing = async () => {
      if (!secondWave) return false;
      process.kill(server.child.pid, "SIGSTOP");
      const claimed = await standing(tokenId).then(
        (now) => now["received, claimed"] ?? 0,
        () => 0,
      );
      if (claimed > 0) return true;
      process.kill(server.child.pid, "SIGCONT");
      return false;
    };
    const crash = (async () => {
      await until(frozenWhileProcessing, 120_000);
      const { port } = server;
      await server.child.kill();
      killedAt = Date.now();
      atKill = await standing(tokenId);
      server = await startServerProcess("server-again", logDir, serverEnv, port);
      restartedAt = Date.now();
    })();
    // Awaited once the uploads have ended; a failure here must not go unhandled meanwhile.
    crash.catch(() => undefined);
    const send = (upload: (typeof uploads)[number]) =>
      new Promise<{ ok: boolean; status: number }>((resolve) => {
        new tus.Upload(upload.bytes, {
          endpoint: `${server.baseUrl}/api/uploads`,
          uploadUrl: `${server.baseUrl}/api/uploads/${upload.declaration.id}`,
          uploadDataDuringCreation: true,
          metadata: { attachmentId: upload.declaration.id },
          headers: { cookie },
          retryDelays: RETRY_DELAYS,
          // 409: the server has the whole file already (its last answer was lost); declaring again tells.
          onShouldRetry: (error) => {
            upload.retries += 1;
            const status = error.originalResponse?.getStatus() ?? 0;
            return status === 0 || status >= 500 || status === 423;
          },
          onSuccess: () => resolve({ ok: true, status: 204 }),
          onError: (error) =>
            resolve({ ok: false, status: (error as tus.DetailedError).originalResponse?.getStatus() ?? 0 }),
        }).start();
      });
    const sendAndDeclare = async (upload: (typeof uploads)[number]) => {
      const sent = await send(upload);
      done += 1;
      // What a phone does after its upload ends either way: it declares the file again and is told where it stands.
      let declared = { status: 0, body: { status: "" } };
      await until(async () => {
        declared = await api(`/api/crop-batches/${tokenId}/attachments`, {
          method: "POST",
          body: upload.declaration,
        });
        return declared.status < 500;
      }, SERVER_AWAY_MS);
      upload.finalStatus = declared.body.status;
      return { sent, declared: declared.status };
    };
    const sending = Promise.all([
      ...uploads.slice(0, UPLOADS / 2).map(sendAndDeclare),
      (async () => {
        await until(async () => done >= CRASH_AFTER_DONE, 120_000);
        secondWave = true;
        return Promise.all(uploads.slice(UPLOADS / 2).map(sendAndDeclare));
      })(),
    ]).then((outcomes) => outcomes.flat());
    // The restarted server is this test's to stop, even when an upload fails before it is up.
    await Promise.allSettled([sending, crash]);
    const outcomes = await sending;
    await crash;
    const uploadedAt = Date.now();

    let rows: Awaited<ReturnType<typeof attachmentsOf>> = [];
    await until(async () => {
      rows = await attachmentsOf(tokenId);
      return rows.every((row) => row.status === "ready" || row.status === "rejected");
    }, READY_WITHIN_MS).catch(() => undefined);
    const readyAt = Date.now();
    const filesAfter = await storedFiles();
    const newFiles = filesAfter.filter((name) => !filesBefore.has(name));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const named = new Set(
      rows.flatMap((row) => [row.sha256, row.thumb_sha256, row.icon_sha256]).filter((name) => name !== null),
    );
    const statuses = rows.reduce<Record<string, number>>((counts, row) => {
      counts[row.status] = (counts[row.status] ?? 0) + 1;
      return counts;
    }, {});

    const figures = {
      store,
      uploads: UPLOADS,
      "killed after this many had finished": CRASH_AFTER_DONE,
      "declaring the files, ms": started - declaring,
      "kill -9 -> server ready again, ms": restartedAt - killedAt,
      "attachments when the server was killed": atKill,
      "uploads that retried": uploads.filter((upload) => upload.retries > 0).length,
      "retries in all": uploads.reduce((sum, upload) => sum + upload.retries, 0),
      "tus answers other than success": outcomes.filter(({ sent }) => !sent.ok).map(({ sent }) => sent.status),
      "statuses on declaring again": uploads.reduce<Record<string, number>>((counts, upload) => {
        counts[upload.finalStatus] = (counts[upload.finalStatus] ?? 0) + 1;
        return counts;
      }, {}),
      "restart -> all uploads ended, ms": uploadedAt - restartedAt,
      "restart -> all ready, ms": readyAt - restartedAt,
      "whole run, ms": readyAt - started,
      statuses,
      records: rows.length,
      "distinct contents": distinctPhotos.size + distinctPdfs.size,
      "stored files (photo + thumbnail, certificate)": newFiles.length,
      "uploads left in the upload store": (await leftOverUploads()).length,
    };
    console.log(`uploads across a server kill -9:\n${JSON.stringify(figures, null, 2)}`);

    expect(atKill["received, claimed"], "the worker was processing files when it was killed").toBeGreaterThan(0);
    expect(
      uploads.some((upload) => upload.retries > 0),
      "some uploads were cut off by the crash",
    ).toBe(true);
    expect(statuses).toEqual({ ready: UPLOADS });
    expect(rows).toHaveLength(UPLOADS);
    expect(outcomes.every(({ declared }) => declared === 200)).toBe(true);
    // Declared again after its upload, each attachment says the server has the whole file.
    const unfinished = uploads.filter(({ finalStatus }) => finalStatus !== "received" && finalStatus !== "ready");
    expect(unfinished.map(({ declaration, finalStatus }) => `${declaration.id}: ${finalStatus}`)).toEqual([]);
    // Certificates are kept byte for byte: each is stored under the SHA-256 of the bytes the client sent.
    for (const upload of uploads) {
      if (upload.declaration.kind === "certificate")
        expect(byId.get(upload.declaration.id)?.sha256).toBe(sha256(upload.bytes));
    }
    const photoRows = rows.filter((row) => row.kind === "photo");
    expect(new Set(photoRows.map((row) => row.sha256)).size).toBe(distinctPhotos.size);
    expect(new Set(photoRows.map((row) => row.thumb_sha256)).size).toBe(distinctPhotos.size);
    expect(new Set(photoRows.map((row) => row.icon_sha256)).size).toBe(distinctPhotos.size);
    // One stored file per distinct content (a photo's re-encoding, its thumbnail and icon), none that nothing names.
    expect(newFiles.length).toBe(distinctPdfs.size + 3 * distinctPhotos.size);
    expect(new Set(newFiles)).toEqual(named);
    expect(await certificateEvents(tokenId)).toBe(UPLOADS / 2);
    // Processed uploads leave the upload store, those the kill caught between `ready` and their removal included: the
    // restarted worker sweeps them at start.
    await until(async () => (await leftOverUploads()).length === 0, 30_000).catch(() => undefined);
    expect(await leftOverUploads()).toEqual([]);
  }, 300_000);
});
