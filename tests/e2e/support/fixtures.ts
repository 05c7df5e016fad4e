import { type APIRequestContext, type BrowserContext, test as base, expect } from "@playwright/test";
import { type Role, signIn } from "./auth";
import { BASE_URL } from "./server";

type Fixtures = {
  /** A request context that signed in over HTTP (EIP-4361) as a demo role; disposed after the test. */
  signedIn: (role: Role) => Promise<APIRequestContext>;
};

type WorkerFixtures = { cspReportsAtEnd: undefined };

// Chromium logs what a page's policy blocks as a console error.
const CSP_MESSAGE = /Content Security Policy|Refused to (?:load|execute|apply|connect|frame|create)/;

function watchConsole(context: BrowserContext): string[] {
  const violations: string[] = [];
  context.on("console", (message) => {
    if (CSP_MESSAGE.test(message.text())) violations.push(`${message.location().url}: ${message.text()}`);
  });
  return violations;
}

/** What browsers reported to the server's report-uri: a service worker's violations reach no console we can read. */
async function reportedViolations(request: APIRequestContext): Promise<number> {
  const text = await (await request.get("/api/metrics")).text();
  return [...text.matchAll(/^gl_csp_violations_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, [, count]) => sum + Number(count),
    0,
  );
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  // Every test's browser fails on a Content-Security-Policy violation, whatever else it checks.
  context: async ({ context, request }, use) => {
    const logged = watchConsole(context);
    const reportedBefore = await reportedViolations(request);
    await use(context);
    expect(logged, "Content-Security-Policy violations in the pages").toEqual([]);
    expect(await reportedViolations(request), "CSP violations reported to /api/csp-reports").toBe(reportedBefore);
  },
  // Reports still on their way when a test ended, and those of contexts a test opened itself, fail the run here.
  cspReportsAtEnd: [
    async ({ playwright }, use) => {
      await use(undefined);
      const request = await playwright.request.newContext({ baseURL: BASE_URL });
      const reported = await reportedViolations(request);
      await request.dispose();
      expect(reported, "CSP violations reported to /api/csp-reports during the run").toBe(0);
    },
    { scope: "worker", auto: true },
  ],
  signedIn: async ({ playwright }, use) => {
    const opened: APIRequestContext[] = [];
    await use(async (role) => {
      const context = await signIn(playwright.request, role);
      opened.push(context);
      return context;
    });
    await Promise.all(opened.map((context) => context.dispose()));
  },
});

export { expect };
