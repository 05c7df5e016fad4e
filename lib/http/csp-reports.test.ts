import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "@/lib/metrics/metrics";
import { serveCspReport } from "./csp-reports";

async function reported(directive: string): Promise<number> {
  return (await metrics.cspViolations.get()).values.find((value) => value.labels.directive === directive)?.value ?? 0;
}

const report = (directive: string) =>
  JSON.stringify({
    "csp-report": {
      "document-uri": "http://localhost:3000/sw.js",
      "effective-directive": directive,
      "blocked-uri": "https://elsewhere.example/x",
    },
  });

describe("POST /api/csp-reports", () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer(async (request, response) => {
      if (!(await serveCspReport(request, response, request.url ?? "/"))) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/csp-reports`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/csp-report", ...headers }, body });

  it("counts a browser's report by its directive and answers 204 with the API's headers", async () => {
    const before = await reported("connect-src");
    const answer = await send(report("connect-src"));
    expect(answer.status).toBe(204);
    expect(answer.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(await reported("connect-src")).toBe(before + 1);
  });

  it("counts a directive it does not know as other, so a forged report cannot add labels", async () => {
    const before = await reported("other");
    expect((await send(report("made-up-directive-1234"))).status).toBe(204);
    expect(await reported("other")).toBe(before + 1);
    expect(await reported("made-up-directive-1234")).toBe(0);
  });

  it("refuses what is not a report, and an oversized one, in the one error shape", async () => {
    const notJson = await send("{nope");
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe("bad_request");
    const large = await send(report("x".repeat(20_000)));
    expect(large.status).toBe(400);
    expect(large.headers.get("connection")).toBe("close");
  });

  it("leaves other paths and methods to the next lane", async () => {
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url.replace("csp-reports", "csp-report"), { method: "POST", body: "{}" })).status).toBe(404);
  });
});
