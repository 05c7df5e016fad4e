import { type APIRequestContext, test as base } from "@playwright/test";
import { type Role, signIn } from "./auth";

type Fixtures = {
  /** A request context that signed in over HTTP (EIP-4361) as a demo role; disposed after the test. */
  signedIn: (role: Role) => Promise<APIRequestContext>;
};

export const test = base.extend<Fixtures>({
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

export { expect } from "@playwright/test";
