import { describe, expect, it } from "vitest";
import type { Output } from "../cli-support.ts";
import { main } from "../ecs-log-operator.ts";
// main() imports a command's module when it runs; loading it here keeps that out of the tests' time.
import "./run.ts";

function capture(): Output & { text: () => string } {
  let out = "";
  return {
    out: (t) => (out += t),
    err: (t) => (out += t),
    color: false,
    text: () => out,
  };
}

describe("ecs-log-operator run", () => {
  it("prints its help with an example", async () => {
    const io = capture();
    expect(await main(["run", "--help"], io)).toBe(0);
    expect(io.text()).toContain("Usage: ecs-log-operator run DIR");
    expect(io.text()).toContain("--metrics-bind-address ADDR");
    expect(io.text()).toContain("/status and the page /");
    for (const flag of ["--metrics-tls-cert-file", "--metrics-tls-key-file", "--metrics-bearer-token-file"]) {
      expect(io.text()).toContain(flag);
    }
    expect(io.text()).toContain("--leader-elect-table NAME");
    expect(io.text()).toContain("Examples:");
  });

  it.each([
    [["run"], "run takes one spec directory"],
    [["run", "specs", "--interval", "soon"], 'invalid duration "soon"'],
    [["run", "specs", "--interval", "10ms"], "--interval must be at least 100ms"],
    [["run", "specs", "--metrics-bind-address", "9464"], "invalid bind address"],
    [["run", "specs", "--workers", "0"], "--workers takes a positive integer"],
    [["run", "specs", "--log-level", "loud"], "--log-level is one of"],
    [
      ["run", "specs", "--metrics-tls-cert-file", "tls.crt"],
      "--metrics-tls-cert-file and --metrics-tls-key-file go together",
    ],
    [
      ["run", "specs", "--metrics-bearer-token-file", "/nonexistent/token"],
      "--metrics-bearer-token-file: cannot read the token file /nonexistent/token",
    ],
    [["run", "specs", "--leader-elect"], "--leader-elect needs --leader-elect-table NAME"],
    [["run", "specs", "--leader-elect-table", "leases"], "--leader-elect-table needs --leader-elect"],
    [
      [
        "run",
        "specs",
        "--leader-elect",
        "--leader-elect-table",
        "leases",
        "--leader-elect-renew-deadline",
        "20s",
      ],
      "--leader-elect-renew-deadline (20s) must be below --leader-elect-lease-duration (15s)",
    ],
  ])("rejects %j", async (args, message) => {
    const io = capture();
    expect(await main(args, io)).toBe(1);
    expect(io.text()).toContain(message);
    expect(io.text()).toContain("See `ecs-log-operator run --help`");
  });
});
