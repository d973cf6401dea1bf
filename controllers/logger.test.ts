import { describe, expect, it } from "vitest";
import { AwsError } from "./aws/errors.ts";
import { JsonLogger } from "./logger.ts";

function capture(): { logger: JsonLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = new JsonLogger({
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    now: () => new Date("2026-11-23T10:00:00Z"),
  });
  return { logger, lines };
}

describe("JsonLogger", () => {
  it("writes one JSON object a line with the child's fields", () => {
    const { logger, lines } = capture();
    logger.child({ resource: "Widget/a" }).info("applied", { changes: 2 });
    expect(lines).toEqual([
      { time: "2026-11-23T10:00:00.000Z", level: "info", msg: "applied", resource: "Widget/a", changes: 2 },
    ]);
  });

  it("logs an error's cause chain, with codes, and no stack trace", () => {
    const { logger, lines } = capture();
    const socket = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const sdk = new Error("socket hang up", { cause: socket });
    const error = new AwsError("transient", "route53", "ListHostedZones", "TimeoutError", "socket hang up", {
      cause: sdk,
    });
    logger.warn("reconcile failed; retrying", { error });
    expect(lines[0]?.error).toEqual({
      message: "route53 ListHostedZones: TimeoutError: socket hang up",
      code: "TimeoutError",
      cause: { message: "socket hang up", cause: { message: "read ECONNRESET", code: "ECONNRESET" } },
    });
    expect(JSON.stringify(lines[0])).not.toContain("at ");
  });

  it("stops at a cause that is itself, and writes a cause that is not an Error as text", () => {
    const { logger, lines } = capture();
    const loop = new Error("again");
    (loop as { cause?: unknown }).cause = loop;
    logger.error("loop", { error: loop, other: new Error("plain", { cause: { status: 503 } }) });
    let depth = 0;
    for (let e = lines[0]?.error as { cause?: unknown } | undefined; e?.cause !== undefined; depth++) {
      e = e.cause as { cause?: unknown };
    }
    expect(depth).toBe(5);
    expect(lines[0]?.other).toEqual({ message: "plain", cause: '{"status":503}' });
  });
});
