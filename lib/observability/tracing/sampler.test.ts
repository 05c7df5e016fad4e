import { type Context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AdaptiveSampler } from "@/lib/observability/tracing/sampler.mjs";

const T0 = new Date("2026-03-01T12:00:00.000Z");

/** A caller's propagated span context, sampled or not. */
function remoteParent(traceFlags: TraceFlags): SpanContext {
  return { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags, isRemote: true };
}

const contextOf = (parent: SpanContext): Context => trace.setSpanContext(ROOT_CONTEXT, parent);
const SAMPLED_PARENT = remoteParent(TraceFlags.SAMPLED);
const UNSAMPLED_PARENT = remoteParent(TraceFlags.NONE);

/** Makes Math.random return these values in turn. */
function rolls(...values: number[]) {
  const random = vi.spyOn(Math, "random");
  for (const value of values) random.mockReturnValueOnce(value);
  return random;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("AdaptiveSampler's ratio", () => {
  it("never admits a root at ratio 0 and always does at ratio 1, whatever the roll", () => {
    rolls(0, 0.5, 0.999_999, 0, 0.5, 0.999_999);
    const never = new AdaptiveSampler({ name: "traceidratio", ratio: 0, boostRatio: 0 });
    const always = new AdaptiveSampler({ name: "traceidratio", ratio: 1, boostRatio: 1 });
    expect([never.admit(undefined), never.admit(undefined), never.admit(undefined)]).toEqual([false, false, false]);
    expect([always.admit(undefined), always.admit(undefined), always.admit(undefined)]).toEqual([true, true, true]);
  });

  it("admits exactly the rolls under the ratio: 3 in 10 evenly spread rolls at 0.3", () => {
    rolls(0, 0.1, 0.2, 0.299, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9);
    const sampler = new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0.3, boostRatio: 0.5 });
    const admitted = Array.from({ length: 10 }, () => sampler.admit(undefined));
    expect(admitted).toEqual([true, true, true, true, false, false, false, false, false, false]);
  });

  it("rolls for a root span in shouldSample when nothing was admitted", () => {
    rolls(0.2, 0.8);
    const sampler = new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0.5, boostRatio: 0.5 });
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it("fixes the ratio of the always_on and always_off samplers, ignoring the configured one", () => {
    expect(new AdaptiveSampler({ name: "always_on", ratio: 0.1, boostRatio: 0.5 }).ratio()).toBe(1);
    expect(new AdaptiveSampler({ name: "parentbased_always_on", ratio: 0, boostRatio: 0 }).ratio()).toBe(1);
    expect(new AdaptiveSampler({ name: "always_off", ratio: 0.5, boostRatio: 1 }).ratio()).toBe(0);
  });
});

describe("AdaptiveSampler's parent", () => {
  it("follows a sampled parent at ratio 0 and an unsampled one at ratio 1 when parent-based, without rolling", () => {
    const random = vi.spyOn(Math, "random");
    const never = () => new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0, boostRatio: 0 });
    const always = () => new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 1, boostRatio: 1 });

    expect(never().admit(SAMPLED_PARENT)).toBe(true);
    expect(always().admit(UNSAMPLED_PARENT)).toBe(false);
    expect(never().shouldSample(contextOf(SAMPLED_PARENT)).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(always().shouldSample(contextOf(UNSAMPLED_PARENT)).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(random).not.toHaveBeenCalled();
  });

  it("follows the parent with parentbased_always_on too", () => {
    const sampler = new AdaptiveSampler({ name: "parentbased_always_on", ratio: 1, boostRatio: 1 });
    expect(sampler.admit(UNSAMPLED_PARENT)).toBe(false);
    expect(sampler.shouldSample(contextOf(UNSAMPLED_PARENT)).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("ignores the parent with traceidratio, which rolls at its ratio instead", () => {
    const never = () => new AdaptiveSampler({ name: "traceidratio", ratio: 0, boostRatio: 0 });
    const always = () => new AdaptiveSampler({ name: "traceidratio", ratio: 1, boostRatio: 1 });
    expect(never().admit(SAMPLED_PARENT)).toBe(false);
    expect(never().shouldSample(contextOf(SAMPLED_PARENT)).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(always().admit(UNSAMPLED_PARENT)).toBe(true);
    expect(always().shouldSample(contextOf(UNSAMPLED_PARENT)).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("keeps every span of this process's own sampled trace with traceidratio, whatever the roll", () => {
    rolls(0.9, 0.9);
    const sampler = new AdaptiveSampler({ name: "traceidratio", ratio: 0.5, boostRatio: 0.5 });
    const local = (parent: SpanContext) => contextOf({ ...parent, isRemote: false });
    expect(sampler.shouldSample(local(SAMPLED_PARENT)).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(local(UNSAMPLED_PARENT)).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it("never samples with always_off, even a sampled parent's span or after a boost", () => {
    const sampler = new AdaptiveSampler({ name: "always_off", ratio: 1, boostRatio: 1 });
    sampler.boost(60);
    expect(sampler.ratio()).toBe(0);
    expect(sampler.admit(undefined)).toBe(false);
    expect(sampler.admit(SAMPLED_PARENT)).toBe(false);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(sampler.shouldSample(contextOf(SAMPLED_PARENT)).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe("AdaptiveSampler's boost", () => {
  it("samples at the boost ratio until boostedUntil, then at the base ratio again", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const sampler = new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0.01, boostRatio: 0.25 });
    expect(sampler.boostedUntil()).toBeUndefined();

    sampler.boost(60);
    expect(sampler.ratio()).toBe(0.25);
    expect(sampler.boostedUntil()).toEqual(new Date(T0.getTime() + 60_000));
    rolls(0.2);
    expect(sampler.admit(undefined)).toBe(true);

    vi.setSystemTime(T0.getTime() + 59_999);
    expect(sampler.ratio()).toBe(0.25);
    vi.setSystemTime(T0.getTime() + 60_000);
    expect(sampler.ratio()).toBe(0.01);
    expect(sampler.boostedUntil()).toBeUndefined();
    rolls(0.2);
    expect(sampler.admit(undefined)).toBe(false);
  });

  it("keeps the later end when boosted again for less time", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const sampler = new AdaptiveSampler({ name: "traceidratio", ratio: 0.01, boostRatio: 0.25 });
    sampler.boost(60);
    vi.setSystemTime(T0.getTime() + 10_000);
    sampler.boost(10);
    expect(sampler.boostedUntil()).toEqual(new Date(T0.getTime() + 60_000));
    sampler.boost(120);
    expect(sampler.boostedUntil()).toEqual(new Date(T0.getTime() + 130_000));
  });

  it("never lowers the ratio: a boost ratio under the base one leaves the base", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const sampler = new AdaptiveSampler({ name: "traceidratio", ratio: 0.5, boostRatio: 0.1 });
    sampler.boost(60);
    expect(sampler.ratio()).toBe(0.5);
  });
});

describe("AdaptiveSampler's admission", () => {
  it("samples the one span started after an admission without a second roll, even at ratio 0", () => {
    const sampler = new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0, boostRatio: 0 });
    expect(sampler.admit(SAMPLED_PARENT)).toBe(true);
    const random = vi.spyOn(Math, "random");
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(random).not.toHaveBeenCalled();
  });

  it("samples the admitted span even when a boost that admitted it has ended since", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const sampler = new AdaptiveSampler({ name: "traceidratio", ratio: 0, boostRatio: 1 });
    sampler.boost(1);
    expect(sampler.admit(undefined)).toBe(true);
    vi.setSystemTime(T0.getTime() + 5_000);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it("forgets an admission that a later refused one replaces", () => {
    const sampler = new AdaptiveSampler({ name: "parentbased_traceidratio", ratio: 0, boostRatio: 0 });
    expect(sampler.admit(SAMPLED_PARENT)).toBe(true);
    expect(sampler.admit(undefined)).toBe(false);
    expect(sampler.shouldSample(ROOT_CONTEXT).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});
