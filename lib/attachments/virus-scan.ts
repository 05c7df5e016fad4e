import "server-only";
import net from "node:net";

export class InfectedFileError extends Error {}

const CHUNK = 64 * 1024;
const TIMEOUT_MS = 30_000;

/**
 * clamd's INSTREAM command over TCP: the bytes in length-prefixed chunks, then a zero length; clamd answers
 * "stream: OK" or "stream: <signature> FOUND". "skipped" when no clamd is configured, so the page can say so.
 */
export async function scanForViruses(bytes: Buffer, clamdUrl: string | undefined): Promise<"clean" | "skipped"> {
  if (!clamdUrl) return "skipped";
  const { hostname, port } = new URL(clamdUrl);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port) || 3310, hostname.replace(/^\[|\]$/g, ""));
    let answer = "";
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error("clamd did not answer in time")));
    socket.on("data", (data) => {
      answer += data.toString("latin1");
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(answer));
    socket.once("connect", () => {
      socket.write("zINSTREAM\0");
      for (let offset = 0; offset < bytes.length; offset += CHUNK) {
        const chunk = bytes.subarray(offset, offset + CHUNK);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(chunk.length);
        socket.write(length);
        socket.write(chunk);
      }
      socket.end(Buffer.alloc(4));
    });
  });
  const result = reply.replace(/\0/g, "").trim();
  if (result.endsWith("OK")) return "clean";
  const found = result.match(/^stream: (.+) FOUND$/);
  if (found) throw new InfectedFileError(`The file carries a virus signature (${found[1]}).`);
  throw new Error(`clamd answered: ${result}`);
}
