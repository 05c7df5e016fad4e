import { describe, expect, it } from "vitest";
import { routeLabel } from "@/lib/metrics/route-label";

describe("routeLabel", () => {
  it("replaces token ids, addresses and uuids with :id", () => {
    expect(routeLabel("/api/verify/123", 200)).toBe("/api/verify/:id");
    expect(routeLabel("/api/crop-batches/77/events", 201)).toBe("/api/crop-batches/:id/events");
    expect(routeLabel("/api/users/0xAbC0000000000000000000000000000000000001", 200)).toBe("/api/users/:id");
    expect(routeLabel("/batches/5f0e1c9a-1b2c-4d3e-8f90-123456789abc", 200)).toBe("/batches/:id");
  });

  it("collapses static files, GS1 links, stored files and every 404", () => {
    expect(routeLabel("/_next/static/chunks/app.js", 200)).toBe("/_next");
    expect(routeLabel("/01/09506000134352/10/LOT7", 200)).toBe("/01/:gtin/10/:lot");
    expect(routeLabel(`/api/files/${"ab".repeat(32)}.webp`, 200)).toBe("/api/files/:sha256");
    expect(routeLabel("/api/nothing-here-1234", 404)).toBe("unmatched");
    expect(routeLabel("/", 200)).toBe("/");
  });
});
