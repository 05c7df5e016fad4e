const ID_SEGMENT = /^(\d+|0x[0-9a-fA-F]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * A bounded label for a request path: ids become `:id`, GS1 links, static files and stored files collapse to one label each,
 * and anything answered 404 is `unmatched` (so random paths cannot grow the metric without limit).
 */
export function routeLabel(pathname: string, status: number): string {
  if (status === 404) return "unmatched";
  if (pathname.startsWith("/_next/")) return "/_next";
  if (pathname.startsWith("/01/")) return "/01/:gtin/10/:lot";
  if (pathname.startsWith("/api/files/")) return "/api/files/:sha256";
  const segments = pathname.split("/").filter(Boolean).slice(0, 6);
  return `/${segments.map((segment) => (ID_SEGMENT.test(segment) ? ":id" : segment)).join("/")}`;
}
