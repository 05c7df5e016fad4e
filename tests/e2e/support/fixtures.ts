import { type APIRequestContext, type BrowserContext, test as base, expect, type Worker } from "@playwright/test";
import { type Role, signIn } from "./auth";

type Fixtures = {
  /** A request context that signed in over HTTP (EIP-4361) as a demo role; disposed after the test. */
  signedIn: (role: Role) => Promise<APIRequestContext>;
};

// Chromium reports a blocked page resource as a console error; a worker's only through its own event.
const CSP_MESSAGE = /Content Security Policy|Refused to (?:load|execute|apply|connect|frame|create)/;
const WORKER_MARK = "CSP violation in worker";

function reportWorkerViolations(worker: Worker): void {
  worker
    .evaluate((mark) => {
      self.addEventListener("securitypolicyviolation", (event) =>
        console.error(`${mark}: ${event.effectiveDirective} blocked ${event.blockedURI}`),
      );
    }, WORKER_MARK)
    .catch(() => {});
}

/** Collects the CSP violations of the context's pages and service workers. */
function watchCsp(context: BrowserContext): string[] {
  const violations: string[] = [];
  context.on("console", (message) => {
    const text = message.text();
    if (CSP_MESSAGE.test(text) || text.startsWith(WORKER_MARK)) violations.push(`${message.location().url}: ${text}`);
  });
  context.on("serviceworker", reportWorkerViolations);
  for (const worker of context.serviceWorkers()) reportWorkerViolations(worker);
  return violations;
}

export const test = base.extend<Fixtures>({
  // Every test's browser fails on a Content-Security-Policy violation, whatever else it checks.
  context: async ({ context }, use) => {
    const violations = watchCsp(context);
    await use(context);
    expect(violations, "Content-Security-Policy violations").toEqual([]);
  },
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
