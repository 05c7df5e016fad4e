// Plain JavaScript: the tracing preload (register.mjs) runs before any TypeScript loader.
import { TraceFlags, trace } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-node";

/** @typedef {import("@opentelemetry/sdk-trace-node").Sampler} Sampler */
/** @typedef {"parentbased_traceidratio" | "traceidratio" | "parentbased_always_on" | "always_on" | "always_off"} SamplerName */

const SAMPLED = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const DROPPED = { decision: SamplingDecision.NOT_RECORD };

/**
 * OTEL_TRACES_SAMPLER's samplers, with a ratio that an SLA breach raises for a while. The gateway decides a request
 * itself (`admit`) before it pays for a span, and the span it then starts is sampled without a second roll.
 * @implements {Sampler}
 */
export class AdaptiveSampler {
  #admitted = false;
  #boostUntil = 0;

  /** @param {{ name: SamplerName; ratio: number; boostRatio: number }} options */
  constructor({ name, ratio, boostRatio }) {
    this.name = name;
    this.parentBased = name.startsWith("parentbased_");
    this.baseRatio = name.endsWith("always_on") ? 1 : name === "always_off" ? 0 : ratio;
    this.boostRatio = Math.max(this.baseRatio, name === "always_off" ? 0 : boostRatio);
  }

  /** The share of new traces sampled now. */
  ratio() {
    return Date.now() < this.#boostUntil ? this.boostRatio : this.baseRatio;
  }

  /** Samples more for `seconds` (until the later of this and any boost already running). @param {number} seconds */
  boost(seconds) {
    this.#boostUntil = Math.max(this.#boostUntil, Date.now() + seconds * 1000);
  }

  boostedUntil() {
    return this.#boostUntil > Date.now() ? new Date(this.#boostUntil) : undefined;
  }

  /**
   * Rolls for a new trace; true means the next root span started in this turn is sampled.
   * @param {import("@opentelemetry/api").SpanContext | undefined} parent a caller's propagated context
   */
  admit(parent) {
    const sampled = parent && this.parentBased ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : this.#roll();
    this.#admitted = sampled;
    return sampled;
  }

  /** @param {import("@opentelemetry/api").Context} context */
  shouldSample(context) {
    const parent = trace.getSpanContext(context);
    if (this.#admitted) {
      this.#admitted = false;
      return SAMPLED;
    }
    // A span inside this process's own trace always follows it (or a sampled trace would lose its database spans);
    // only a parent-based sampler follows a caller's decision too.
    if (parent && (this.parentBased || !parent.isRemote)) {
      return (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? SAMPLED : DROPPED;
    }
    return this.#roll() ? SAMPLED : DROPPED;
  }

  #roll() {
    const ratio = this.ratio();
    return ratio >= 1 || (ratio > 0 && Math.random() < ratio);
  }

  toString() {
    return `AdaptiveSampler{${this.name}, ratio=${this.baseRatio}, boost=${this.boostRatio}}`;
  }
}
