import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "@/lib/cache/circuit-breaker";

const failing = () => Promise.reject(new Error("down"));
const working = () => Promise.resolve("value");

describe("CircuitBreaker", () => {
  function breaker() {
    let now = 0;
    const changes: boolean[] = [];
    const instance = new CircuitBreaker({
      failures: 3,
      cooldownMs: 1_000,
      now: () => now,
      onChange: (open) => changes.push(open),
    });
    return { instance, changes, advance: (ms: number) => (now += ms) };
  }

  it("opens after the configured failures in a row and then skips the operation", async () => {
    const { instance, changes } = breaker();
    for (let call = 0; call < 3; call += 1) expect(await instance.run(failing, "fallback")).toBe("fallback");
    expect(instance.open).toBe(true);
    let called = false;
    const operation = async () => {
      called = true;
      return "value";
    };
    expect(await instance.run(operation, "fallback")).toBe("fallback");
    expect(called).toBe(false);
    expect(changes).toEqual([true]);
  });

  it("a success resets the count of failures while closed", async () => {
    const { instance } = breaker();
    await instance.run(failing, null);
    await instance.run(failing, null);
    await instance.run(working, null);
    await instance.run(failing, null);
    expect(instance.open).toBe(false);
  });

  it("after the cooldown one probe runs: success closes, failure reopens for another cooldown", async () => {
    const { instance, changes, advance } = breaker();
    for (let call = 0; call < 3; call += 1) await instance.run(failing, null);
    advance(1_000);
    expect(await instance.run(failing, "fallback")).toBe("fallback");
    expect(instance.open).toBe(true);
    advance(999);
    expect(instance.skipping).toBe(true);
    expect(await instance.run(working, "fallback")).toBe("fallback");
    advance(1);
    expect(instance.skipping).toBe(false);
    expect(await instance.run(working, "fallback")).toBe("value");
    expect(instance.skipping).toBe(false);
    expect(instance.open).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it("lets only one probe through while it runs", async () => {
    const { instance, advance } = breaker();
    for (let call = 0; call < 3; call += 1) await instance.run(failing, null);
    advance(1_000);
    let release: (value: string) => void = () => undefined;
    const probe = instance.run(() => new Promise<string>((resolve) => (release = resolve)), "fallback");
    expect(instance.skipping).toBe(true);
    expect(await instance.run(working, "fallback")).toBe("fallback");
    release("probed");
    expect(await probe).toBe("probed");
  });
});
