import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { freePort } from "../../test/free-port.ts";
import { bearerTokenAuthorizer } from "../../controllers/http-auth.ts";
import { HttpServer } from "../../controllers/http-server.ts";
import type { StatusDocument } from "../../controllers/status-model.ts";
import { logClusterStatus } from "../../test/fixtures/status/log-cluster-status.ts";
import { readGolden } from "../../test/golden.ts";
import { DESCRIBE_GOLDENS, GET_GOLDENS, runStatusCommand } from "../../test/status-goldens.ts";
import { UsageError } from "../cli-support.ts";
import { main } from "../ecs-log-operator.ts";
import { statusUrl } from "../status-client.ts";
import { describeCommand } from "./describe.ts";
import { getCommand } from "./get.ts";
import { captureOutput } from "../../test/captured-output.ts";

// get and describe against an in-process HTTP server (the controller's own HttpServer) serving a realistic status.

let doc: StatusDocument;
let server: HttpServer;
let secured: HttpServer;
let base = "";
let securedBase = "";
const temp = mkdtempSync(join(tmpdir(), "get-describe-"));
const tokenFile = join(temp, "token");

beforeAll(async () => {
  doc = await logClusterStatus();
  const options = {
    bindAddress: "127.0.0.1:0",
    registry: new Registry(),
    alive: () => true,
    ready: () => ({ ready: true, phase: "ready" }),
    status: () => doc,
  };
  server = new HttpServer(options);
  secured = new HttpServer({ ...options, authorize: bearerTokenAuthorizer(() => "t0ken") });
  await Promise.all([server.listen(), secured.listen()]);
  base = `http://127.0.0.1:${server.port}`;
  securedBase = `http://127.0.0.1:${secured.port}`;
  writeFileSync(tokenFile, "t0ken\n");
});

afterAll(async () => {
  await Promise.all([server.close(), secured.close()]);
  rmSync(temp, { recursive: true, force: true });
});

// The wall clock is never read: ages count from the document's generatedAt.
const never = (): number => {
  throw new Error("read the wall clock");
};

function run(
  command: typeof getCommand,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runStatusCommand(command, args, base);
}

describe("get", () => {
  it.each(GET_GOLDENS)("prints %s, the same twice", async (golden, args) => {
    const first = await run(getCommand, args);
    const second = await run(getCommand, args);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout).toBe(readGolden(golden));
  });

  it("shows Degraded with its reason beside Ready", async () => {
    const { stdout } = await run(getCommand, []);
    expect(stdout).toMatch(/^CloudMapService\/fluentd\s+True\s+True\s+NoFreeEni\s+42m\s+2$/m);
    expect(stdout).toMatch(/^LogRouter\/gaze-heatmap\s+True\s+True\s+ImagePullFailed\s+12m\s+<none>$/m);
    expect(stdout).toMatch(/^SidecarVolume\/log-batch\s+True\s+-\s+InvalidSpec\s+5m\s+<none>$/m);
    // The kinds' orphan sweeps are no resources.
    expect(stdout).not.toContain("/*");
  });

  it("prints JSON and YAML that hold the document's resources", async () => {
    const json = JSON.parse((await run(getCommand, ["-o", "json"])).stdout) as { resources: unknown[] };
    expect(json.resources).toEqual(JSON.parse(JSON.stringify(doc.resources)));
    const one = parseYaml((await run(getCommand, ["CloudMapService/fluentd", "-o", "yaml"])).stdout) as {
      key: string;
      conditions: { type: string; reason: string }[];
    };
    expect(one.key).toBe("CloudMapService/fluentd");
    expect(one.conditions.map((c) => `${c.type}:${c.reason}`)).toEqual([
      "Degraded:NoFreeEni",
      "Ready:Converged",
    ]);
  });

  it("says what is managed when a name is unknown, and rejects an unknown kind", async () => {
    expect(await run(getCommand, ["CloudMapService/nope"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "ecs-log-operator get: CloudMapService/nope not found (CloudMapService: fluentd)\n",
    });
    await expect(run(getCommand, ["CloudMapServce"])).rejects.toThrow(UsageError);
    await expect(run(getCommand, ["CloudMapServce"])).rejects.toThrow(
      /unknown kind "CloudMapServce" \(kinds: /,
    );
  });
});

describe("describe", () => {
  it.each(DESCRIBE_GOLDENS)("prints %s, the same twice", async (golden, target) => {
    const first = await run(describeCommand, [target]);
    const second = await run(describeCommand, [target]);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout).toBe(readGolden(golden));
  });

  it("explains the failures: conditions, stop codes and reasons, task addresses, events", async () => {
    const fluentd = (await run(describeCommand, ["CloudMapService/fluentd"])).stdout;
    expect(fluentd).toMatch(/^ {2}Degraded\s+True\s+NoFreeEni\s+42m\s+logs\/fluentd runs 2 of 3 tasks\./m);
    expect(fluentd).toMatch(/^ {4}0c2f2e45a1b24c1e9d7f\s+RUNNING\s+HEALTHY\s+10\.0\.1\.11/m);
    expect(fluentd).toMatch(
      /^ {4}9f3d6a7b8c1e4d2fa5b6\s+42m ago\s+ServiceSchedulerInitiated\s+HostStopped\s+Host EC2/m,
    );
    expect(fluentd).toContain('encountered error "RESOURCE:ENI"');
    expect(fluentd).toContain("=> no container instance has a free network interface (RESOURCE:ENI)");
    expect(fluentd).toMatch(
      /^ {2}42m\s+delete\s+instance 9f3d6a7b8c1e4d2fa5b6 10\.0\.1\.13:24224\s+task stopped$/m,
    );
    const heatmap = (await run(describeCommand, ["LogRouter/gaze-heatmap"])).stdout;
    expect(heatmap).toMatch(/TaskFailedToStart\s+ImagePullFailed\s+CannotPullContainerError/);
  });

  it("prints the resource with its services and decisions as JSON", async () => {
    const out = JSON.parse(
      (await run(describeCommand, ["CloudMapService/fluentd", "-o", "json"])).stdout,
    ) as {
      resource: { key: string };
      services: { key: string; stoppedTasks: { stopCode: string }[] }[];
      decisions: { decision: string }[];
    };
    expect(out.resource.key).toBe("CloudMapService/fluentd");
    expect(out.services.map((s) => s.key)).toEqual(["ecs:logs/service:fluentd"]);
    expect(out.services[0]?.stoppedTasks[0]?.stopCode).toBe("ServiceSchedulerInitiated");
    expect(out.decisions.map((d) => d.decision)).toEqual(["applied"]);
  });

  it("takes exactly one KIND/NAME", async () => {
    await expect(run(describeCommand, [])).rejects.toThrow(/describe takes one KIND\/NAME/);
    await expect(run(describeCommand, ["CloudMapService"])).rejects.toThrow(/describe takes one KIND\/NAME/);
    expect(await run(describeCommand, ["CloudMapService/nope"])).toMatchObject({
      code: 1,
      stderr: "ecs-log-operator describe: CloudMapService/nope not found (CloudMapService: fluentd)\n",
    });
  });
});

describe("reaching the controller", () => {
  const viaMain = async (args: string[]): Promise<{ code: number; stderr: string }> => {
    const io = captureOutput();
    const code = await main(args, io);
    return { code, stderr: io.stderr };
  };

  it("says in one sentence that nothing serves there, and what to do", async () => {
    const port = await freePort();
    for (const command of ["get", "describe"]) {
      const target = command === "describe" ? ["CloudMapService/fluentd"] : [];
      const { code, stderr } = await viaMain([command, ...target, "--server", `127.0.0.1:${port}`]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `ecs-log-operator ${command}: cannot reach the controller at http://127.0.0.1:${port}/: connection refused. ` +
          "Is `ecs-log-operator run` serving there? Point --server at its --metrics-bind-address (default " +
          "http://127.0.0.1:9464).\n",
      );
    }
  });

  it("asks for the token when the controller wants one, and says when it refuses it", async () => {
    expect(await viaMain(["get", "--server", securedBase])).toEqual({
      code: 1,
      stderr:
        `ecs-log-operator get: the controller at ${securedBase}/ asks for a token: pass --token-file FILE ` +
        "(the file its --metrics-bearer-token-file names)\n",
    });
    const wrong = join(temp, "wrong");
    writeFileSync(wrong, "nope");
    expect((await viaMain(["get", "--server", securedBase, "--token-file", wrong])).stderr).toBe(
      `ecs-log-operator get: the controller at ${securedBase}/ refused the token in ${wrong}\n`,
    );
    const io = captureOutput();
    expect(await getCommand(["--server", securedBase, "--token-file", tokenFile], io, never)).toBe(0);
    expect(io.stdout).toContain("CloudMapService/fluentd");
  });

  it("tells an answer that is not a controller's /status", async () => {
    const other = createServer((req, res) => {
      if (req.url === "/status") res.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    const addr = other.address();
    const url = `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}`;
    try {
      expect((await viaMain(["get", "--server", url])).stderr).toBe(
        `ecs-log-operator get: ${url}/status did not answer JSON: is it an ecs-log-operator controller?\n`,
      );
      expect((await viaMain(["get", "--server", `${url}/prefix`])).stderr).toBe(
        `ecs-log-operator get: ${url}/prefix/ has no /status: is it an ecs-log-operator controller's metrics address?\n`,
      );
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it.each([
    [":9464", "http://127.0.0.1:9464/status"],
    ["10.0.1.7:9464", "http://10.0.1.7:9464/status"],
    ["https://ops.example/ecs-log-operator/", "https://ops.example/ecs-log-operator/status"],
    ["http://127.0.0.1:9464/status", "http://127.0.0.1:9464/status"],
  ])("--server %s reads %s", (server, url) => {
    expect(statusUrl(server).href).toBe(url);
  });

  it("rejects a --server that is not http(s)", () => {
    expect(() => statusUrl("ftp://x")).toThrow(/must be http:\/\/ or https:\/\//);
  });
});

describe("help", () => {
  it.each(["get", "describe"])("%s --help shows examples", async (command) => {
    const io = captureOutput();
    expect(await main([command, "--help"], io)).toBe(0);
    expect(io.stdout).toMatch(/^Examples:\n {2}npx ecs-log-operator /m);
    expect(io.stdout).toContain("--server URL");
  });
});
