import autocannon from "autocannon";

export type Request = { method: "GET" | "POST"; path: string; body?: string };

export type LoadOptions = {
  base: string;
  next: () => Request;
  seconds: number;
  connections: number;
  /** Constant arrival rate (requests per second over all connections); unset: as fast as the server answers. */
  rate?: number;
};

export type Measured = {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  requests: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
};

/**
 * One autocannon run; each request takes its own path from `next`. Latencies are in ms, from autocannon's HDR
 * histogram (1 ms resolution; corrected for coordinated omission in constant-rate mode).
 */
export async function measure(options: LoadOptions): Promise<Measured> {
  const result = await autocannon({
    url: options.base,
    connections: options.connections,
    duration: options.seconds,
    timeout: 10,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        setupRequest: (request) => {
          const next = options.next();
          return {
            ...request,
            method: next.method,
            path: next.path,
            body: next.body,
            headers: next.body ? { "content-type": "application/json" } : {},
          };
        },
      },
    ],
  });
  const requests = result["1xx"] + result["2xx"] + result["3xx"] + result["4xx"] + result["5xx"];
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count ?? 0]),
  );
  return {
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    requests,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses,
  };
}
