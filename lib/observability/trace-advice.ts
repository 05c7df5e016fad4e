import type { TraceSpan } from "@/lib/observability/critical-path";

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` output, which is `[{ Plan: PlanNode }]`. */
export type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Filter?: string;
  "Index Cond"?: string;
  "Plan Rows"?: number;
  "Total Cost"?: number;
  "Actual Rows"?: number;
  "Rows Removed by Filter"?: number;
  "Sort Key"?: string[];
  Plans?: PlanNode[];
};

export type AdviceContext = {
  /** The plan of the span's statement, when one could be taken. */
  plan?: PlanNode;
  /** The span is a read the cache sits in front of. */
  cacheable?: boolean;
  /** The span's own time on the critical path (`selfTimeOnPath`), to tell a busy handler from a waiting one. */
  onPathMs?: number;
};

/** Below this many rows a scan or a sort is cheap, and PostgreSQL picks a Seq Scan over a small table on purpose. */
const MANY_ROWS = 1_000;
/** A Seq Scan planned to cost less than this (about as many 8 KB pages) reads a small table. */
const SMALL_SCAN_COST = 100;
const STATEMENT_CHARS = 200;
/** A server or internal span is busy in its own code when at least this share of its duration is its own. */
const OWN_SHARE = 0.5;
/** Chain reads the indexer keeps in the database. */
const INDEXED_READS = new Set(["eth_getLogs", "eth_call"]);

const IDENTIFIER = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)`;
/** `column op ...`, `(column)::type op ...` or `alias.column op ...`, with an operator a B-tree index can serve. */
const CONDITION = new RegExp(
  String.raw`^\(?(?:${IDENTIFIER}\.)?(${IDENTIFIER})\)?(?:::[A-Za-z ]+(?:\[\])?)?\s(<=|>=|<|>|=)\s`,
);
const QUALIFIER = new RegExp(String.raw`^${IDENTIFIER}\.(?=["A-Za-z_])`);

function rows(count: number): string {
  return count.toLocaleString("en-US");
}

function milliseconds(ms: number): string {
  return `${Number(ms.toFixed(1))} ms`;
}

/** Splits `text` at `separator` where it stands outside parentheses and string literals. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === "'") quoted = !quoted;
    else if (!quoted && char === "(") depth += 1;
    else if (!quoted && char === ")") depth -= 1;
    else if (!quoted && depth === 0 && text.startsWith(separator, index)) {
      parts.push(text.slice(start, index));
      start = index + separator.length;
      index = start - 1;
    }
  }
  return [...parts, text.slice(start)];
}

/** The index of the parenthesis that closes the one `text` starts with, or -1. */
function closingParen(text: string): number {
  let depth = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === "'") quoted = !quoted;
    else if (!quoted && char === "(") depth += 1;
    else if (!quoted && char === ")" && --depth === 0) return index;
  }
  return -1;
}

/** `text` without the parentheses that wrap all of it. */
function unwrap(text: string): string {
  let inner = text.trim();
  while (inner.startsWith("(") && closingParen(inner) === inner.length - 1) inner = inner.slice(1, -1).trim();
  return inner;
}

/**
 * The columns a filter of AND-ed simple comparisons compares, equality ones first: a B-tree index serves equality
 * columns and then one range column. Comparisons it cannot read (functions, OR, LIKE) are left out.
 */
function filterColumns(filter: string): string[] {
  const equality: string[] = [];
  const range: string[] = [];
  for (const condition of splitTopLevel(unwrap(filter), " AND ").map(unwrap)) {
    const match = splitTopLevel(condition, " OR ").length === 1 ? CONDITION.exec(condition) : null;
    if (match?.[1]) (match[2] === "=" ? equality : range).push(match[1]);
  }
  return [...new Set([...equality, ...range.slice(0, 1)])];
}

function seqScanAdvice(node: PlanNode): string | undefined {
  const { "Relation Name": relation, Filter: filter, "Actual Rows": kept, "Rows Removed by Filter": removed } = node;
  if (node["Node Type"] !== "Seq Scan" || !relation || !filter) return undefined;
  if (kept !== undefined && removed !== undefined && kept + removed < MANY_ROWS) return undefined;
  // Without EXPLAIN ANALYZE's counts, the planner's cost tells a small table, where a Seq Scan is the right choice.
  if (kept === undefined && (node["Total Cost"] ?? Number.POSITIVE_INFINITY) < SMALL_SCAN_COST) return undefined;
  const columns = filterColumns(filter);
  const counted = removed === undefined ? "" : ` (it removed ${rows(removed)} rows to keep ${rows(kept ?? 0)})`;
  if (columns.length === 0) {
    return `A Seq Scan on ${relation} reads every row to apply the filter ${filter}${counted}: index the columns it compares.`;
  }
  return (
    `A Seq Scan on ${relation} reads every row to filter on ${columns.join(", ")}${counted}: add ` +
    `\`CREATE INDEX ON ${relation} (${columns.join(", ")})\` (an @@index in prisma/schema.prisma and a migration).`
  );
}

function relationsUnder(node: PlanNode): string[] {
  const own = node["Relation Name"] ? [node["Relation Name"]] : [];
  return [...new Set([...own, ...(node.Plans ?? []).flatMap(relationsUnder)])];
}

function sortAdvice(node: PlanNode): string | undefined {
  const keys = node["Sort Key"]?.map((key) => key.replace(QUALIFIER, "")) ?? [];
  const planned = node["Plan Rows"] ?? 0;
  if (node["Node Type"] !== "Sort" || planned <= MANY_ROWS || keys.length === 0) return undefined;
  const relations = relationsUnder(node);
  const sorting = `A Sort orders about ${rows(planned)} rows by ${keys.join(", ")}`;
  if (relations.length !== 1) {
    return `${sorting} after joining ${relations.join(", ")}: an index can only return rows in order from one table, so sort fewer rows (filter or limit before the join).`;
  }
  return `${sorting}: add \`CREATE INDEX ON ${relations[0]} (${keys.join(", ")})\` so the scan returns them in that order and the Sort goes away.`;
}

function nestedLoopAdvice(node: PlanNode): string | undefined {
  const [outer, inner] = node.Plans ?? [];
  if (node["Node Type"] !== "Nested Loop" || inner?.["Node Type"] !== "Seq Scan") return undefined;
  const outerRows = outer?.["Actual Rows"] ?? outer?.["Plan Rows"];
  const times =
    outerRows === undefined ? "for each row of its outer side" : `once for each of ~${rows(outerRows)} outer rows`;
  return `A Nested Loop reads all of ${inner["Relation Name"] ?? "its inner side"} ${times}: index the column it joins on so each lookup is an index scan.`;
}

/** What to change so PostgreSQL runs this plan faster; nothing for a plan that only uses index scans. */
export function planAdvice(plan: PlanNode): string[] {
  const advice = new Set<string>();
  const visit = (node: PlanNode) => {
    for (const line of [seqScanAdvice(node), sortAdvice(node), nestedLoopAdvice(node)]) if (line) advice.add(line);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan);
  return [...advice];
}

// instrumentation-pg 0.76 and -ioredis 0.71 write the stable database conventions; older agents the names before them.
const STABLE_NAMES: Record<string, string> = {
  "db.statement": "db.query.text",
  "db.system": "db.system.name",
  "db.name": "db.namespace",
};

function attribute(span: TraceSpan, key: string): string | undefined {
  const stable = STABLE_NAMES[key];
  const value = (stable === undefined ? undefined : span.attributes[stable]) ?? span.attributes[key];
  return value === undefined ? undefined : String(value);
}

/** The SQL of a PostgreSQL span, under either convention's name. */
export function postgresStatement(span: TraceSpan): string | undefined {
  return attribute(span, "db.system") === "postgresql" ? attribute(span, "db.statement") : undefined;
}

function quote(statement: string): string {
  const oneLine = statement.replace(/\s+/g, " ").trim();
  return oneLine.length > STATEMENT_CHARS ? `${oneLine.slice(0, STATEMENT_CHARS)}…` : oneLine;
}

function databaseAdvice(span: TraceSpan, system: string, { plan, cacheable }: AdviceContext): string[] {
  const statement = attribute(span, "db.statement");
  const database = attribute(span, "db.name");
  const host = attribute(span, "net.peer.name");
  const where = `${system}${database ? ` database ${database}` : ""}${host ? ` on ${host}` : ""}`;
  const advice = statement
    ? [`The query to ${where} took ${milliseconds(span.durationMs)}: \`${quote(statement)}\`.`]
    : [`The call ${span.name} to ${where} took ${milliseconds(span.durationMs)} and recorded no statement.`];
  if (plan) {
    const fixes = planAdvice(plan);
    advice.push(
      ...(fixes.length > 0
        ? fixes
        : [
            "Its plan shows no missing index: look for lock waits (wait_event in pg_stat_activity) and at how many rows it returns.",
          ]),
    );
  } else {
    advice.push(
      statement
        ? "No plan could be taken for it (a write, which EXPLAIN ANALYZE would run): run `EXPLAIN (ANALYZE, BUFFERS)` on it inside a transaction you roll back."
        : "No plan could be taken without a statement: find the query in the code path of this span.",
    );
  }
  if (cacheable) {
    advice.push(
      'This read sits behind the cache, so reaching the database means the cache did not hold it: check gl_cache_requests_total{result="miss"} and the cache TTL.',
    );
  }
  return advice;
}

function redisAdvice(span: TraceSpan): string {
  const statement = attribute(span, "db.statement");
  return (
    `The Redis round trip${statement ? ` \`${quote(statement)}\`` : ""} took ${milliseconds(span.durationMs)}: ` +
    "check the server's latency with `redis-cli --latency`, whether the circuit breaker is open (gl_redis_circuit_open), " +
    "and send commands that follow one another as one pipeline."
  );
}

function chainAdvice(span: TraceSpan): string[] {
  const method = attribute(span, "rpc.method") ?? span.name;
  const advice = [
    `The RPC node took ${milliseconds(span.durationMs)} to answer ${method}: the node is slow for this method, check its latency with the provider.`,
  ];
  if (method === "eth_getLogs") {
    advice.push(
      "eth_getLogs reads every block in its range: narrow fromBlock and toBlock to the blocks that can hold the events.",
    );
  }
  if (INDEXED_READS.has(method)) {
    advice.push(
      `If this ${method} serves a request, read from the indexed database instead: the indexer keeps it in step with the chain.`,
    );
  }
  return advice;
}

function cacheMissAdvice(span: TraceSpan): string {
  const namespace = attribute(span, "gl.cache.namespace");
  return (
    `The cache missed${namespace ? ` in namespace ${namespace}` : ""}, so the request paid for loading the value: ` +
    `compare gl_cache_requests_total{${namespace ? `namespace="${namespace}",` : ""}result="miss"} with its hits ` +
    "and check whether the TTL is shorter than the time between reads."
  );
}

function ownWorkAdvice(span: TraceSpan): string {
  const route = attribute(span, "http.route");
  const method = attribute(span, "http.request.method");
  const subject = route ? `The handler for ${method ? `${method} ` : ""}${route}` : `The span ${span.name}`;
  return (
    `${subject} spent its time in its own code, not waiting on a child span: profile it with \`node --cpu-prof\` ` +
    "and check the event-loop delay gauge gl_nodejs_eventloop_lag_p99_seconds (a blocked loop delays every request in the process)."
  );
}

/** What an on-call engineer can do about a span on the critical path, from its OpenTelemetry attributes. */
export function adviseSpan(span: TraceSpan, context: AdviceContext): string[] {
  const advice =
    span.status === "error"
      ? [
          `The span ${span.name} failed: read its exception event and the ${span.service} logs for trace ${span.traceId}; a timeout or a retry here costs time too.`,
        ]
      : [];
  const system = attribute(span, "db.system");
  if (system === "redis") advice.push(redisAdvice(span));
  else if (system) advice.push(...databaseAdvice(span, system, context));
  else if (attribute(span, "gl.chain") === "true" || attribute(span, "rpc.system") === "jsonrpc") {
    advice.push(...chainAdvice(span));
  } else if (attribute(span, "gl.cache.result") === "miss") advice.push(cacheMissAdvice(span));
  else if (
    (span.kind === "server" || span.kind === "internal") &&
    context.onPathMs !== undefined &&
    context.onPathMs >= OWN_SHARE * span.durationMs
  ) {
    advice.push(ownWorkAdvice(span));
  }
  return advice;
}
