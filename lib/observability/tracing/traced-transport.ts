import type { Transport } from "viem";
import { inSpan } from "@/lib/observability/tracing/spans";

/** A viem transport whose calls are spans (`chain eth_getLogs`) inside a sampled trace. */
export function tracedTransport<T extends Transport>(transport: T): T {
  return ((parameters) => {
    const inner = transport(parameters);
    const request: typeof inner.request = (args, options) =>
      inSpan(`chain ${args.method}`, { "rpc.system": "jsonrpc", "rpc.method": args.method, "gl.chain": true }, () =>
        inner.request(args, options),
      );
    return { ...inner, request };
  }) as T;
}
