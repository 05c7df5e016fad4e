import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitForPort } from "@/deploy/local/daemon";
import { freePort } from "@/scripts/free-port.mjs";

const CLAMD = "/usr/sbin/clamd";
const STARTUP_MS = 15_000;
const OUTPUT_KEPT = 20_000;

/**
 * The EICAR anti-virus test file (68 bytes): harmless, and every scanner reports it. Joined at run time so this
 * source file is not itself taken for it by a scanner on a developer's machine.
 */
export const EICAR = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join("");
/** What clamd names it here: the name ClamAV's official database gives the same MD5 signature. */
export const EICAR_SIGNATURE = "Eicar-Test-Signature";

export type Clamd = {
  /** clamd's TCP socket, as CLAMD_URL takes it: tcp://127.0.0.1:PORT. */
  url: string;
  /** Kills the clamd startClamd() started and removes its folder. */
  stop(): Promise<void>;
};

/** One clamd command (z: NUL-terminated), its answer without the NUL; "" if the connection fails. */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on("data", (data: Buffer) => {
      answer += data.toString("latin1");
    });
    socket.once("error", () => resolve(""));
    socket.once("close", () => resolve(answer.replace(/\0/g, "").trim()));
    socket.once("connect", () => socket.end(`z${command}\0`));
  });
}

/**
 * Debian's clamd in the foreground, in a temp folder of its own: its clamd.conf (TCP on a free loopback port, no
 * local socket, no log file, no pid file, no bytecode) and a database of one signature, the EICAR test string
 * anywhere in a file, so it loads in well under a second (no main.cvd: freshclam cannot download it here, nor does a test need
 * it). Never /etc/clamav, the machine's clamd or its port 3310. Runs as the caller, root included: clamd only
 * switches users when the config names one (`User`), and it reads nothing but its own folder and the streams sent.
 */
export async function startClamd(): Promise<Clamd> {
  await access(CLAMD).catch(() => {
    throw new Error(`no ${CLAMD}: install Debian's clamav-daemon`);
  });
  // Under /tmp: Debian's AppArmor profile for clamd lets it read and write there (/tmp/**), not elsewhere.
  const dir = await mkdtemp(path.join(tmpdir(), "gl-clamd-"));
  const port = await freePort();
  const database = path.join(dir, "db");
  await mkdir(database);
  // .ndb: name:target:offset:hex, a body signature that finds the test string anywhere in a file (inside a PDF too).
  await writeFile(path.join(database, "eicar.ndb"), `${EICAR_SIGNATURE}:0:*:${Buffer.from(EICAR).toString("hex")}\n`);
  const conf = path.join(dir, "clamd.conf");
  await writeFile(
    conf,
    [
      "Foreground yes",
      `TCPSocket ${port}`,
      "TCPAddr 127.0.0.1",
      `DatabaseDirectory ${database}`,
      // INSTREAM spools each stream to a file there before scanning it.
      `TemporaryDirectory ${dir}`,
      "LogSyslog no",
      "LogTime no",
      "Bytecode no",
      // The database never changes: no reloads.
      "SelfCheck 0",
      "",
    ].join("\n"),
  );

  let output = "";
  const record = (text: string) => {
    output = (output + text).slice(-OUTPUT_KEPT);
  };
  const child: ChildProcess = spawn(CLAMD, ["--config-file", conf], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk: Buffer) => record(chunk.toString()));
  let failed = false;
  child.once("error", (error) => {
    failed = true;
    record(`${error.message}\n`);
  });
  const running = () => !failed && child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  // A test that dies without stop() must not leave clamd running on the shared machine, nor its folder.
  const killOnExit = () => {
    if (running()) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const halt = async () => {
    // SIGKILL: nothing here is worth keeping.
    if (running()) child.kill("SIGKILL");
    await exited;
    process.off("exit", killOnExit);
    await rm(dir, { recursive: true, force: true });
  };
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= halt();
    return stopped;
  };

  try {
    // clamd loads its database before it binds: listening means ready to scan.
    await waitForPort(port, () => !running(), STARTUP_MS);
    // Something else may have taken the free port before clamd bound it: then this answer is not clamd's.
    const pong = await ask(port, "PING");
    if (pong !== "PONG" || !running()) throw new Error(`PING on ${port} answered "${pong}"`);
  } catch (error) {
    await stop();
    throw new Error(`clamd did not start (${error instanceof Error ? error.message : error}): ${output}`);
  }
  return { url: `tcp://127.0.0.1:${port}`, stop };
}
