import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isReadOperation } from "../../controllers/aws/clients.ts";

/** One request that went through the proxy, as AWS would count it. */
export interface ProxiedRequest {
  /** `performance.now()` when it arrived. */
  readonly at: number;
  /** The SigV4 signing name: ecs, servicediscovery, route53, autoscaling, ec2, dynamodb, logs, monitoring, ... */
  readonly service: string;
  readonly operation: string;
  /** Changes AWS state (by the AWS APIs' naming, or a Route 53 POST). */
  readonly write: boolean;
  /** The emulator's HTTP status; undefined while the answer is held. */
  status?: number;
  /** `performance.now()` when the answer was sent back. */
  answeredAt?: number;
}

interface Hold {
  readonly test: (r: ProxiedRequest) => boolean;
  readonly arrived: () => void;
  readonly released: Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the emulator for one operator process (its AWS_ENDPOINT_URL), recording every
 * request that process sends, so that what each replica wrote is seen from outside it. `holdNext` lets a request
 * through to the emulator but keeps its answer from the process until released: the process then goes on with a view
 * of AWS from before whatever the test changes meanwhile. moto checks no signature, so requests pass unchanged.
 */
export class RecordingProxy {
  readonly endpoint: string;
  readonly requests: ProxiedRequest[] = [];
  private readonly server: Server;
  private readonly target: URL;
  private hold: Hold | undefined;

  private constructor(server: Server, target: string) {
    this.server = server;
    this.target = new URL(target);
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(target: string): Promise<RecordingProxy> {
    // eslint-disable-next-line prefer-const -- assigned once the server listens
    let proxy: RecordingProxy | undefined;
    const server = createServer((req, res) => {
      void proxy?.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new RecordingProxy(server, target);
    return proxy;
  }

  /** The writes recorded since `since` (a `performance.now()`), by service, e.g. `route53:ChangeResourceRecordSets`. */
  writes(since = 0, services?: readonly string[]): string[] {
    return this.requests
      .filter((r) => r.write && r.at >= since && (services === undefined || services.includes(r.service)))
      .map((r) => `${r.service}:${r.operation}`);
  }

  /**
   * When AWS had answered every write (among `services`) sent since `since` and answered by `by`: the latest such
   * answer, or undefined when there was none. Timing what the process did from its own requests leaves the test's
   * polling out of the figure.
   */
  lastWriteAnswered(since: number, by: number, services?: readonly string[]): number | undefined {
    const answers = this.requests
      .filter((r) => r.write && r.at >= since && (services === undefined || services.includes(r.service)))
      .map((r) => r.answeredAt)
      .filter((t): t is number => t !== undefined && t <= by);
    return answers.length === 0 ? undefined : Math.max(...answers);
  }

  /** When the first request passing `test` sent since `since` was answered with a 2xx: undefined if none yet. */
  firstSuccess(since: number, test: (r: ProxiedRequest) => boolean): number | undefined {
    return this.requests.find((r) => r.at >= since && r.status !== undefined && r.status < 300 && test(r))
      ?.answeredAt;
  }

  /**
   * The next request that passes `test` is sent to the emulator, but its answer is held until `release` is called.
   * `arrived` resolves when that request has come in.
   */
  holdNext(test: (r: ProxiedRequest) => boolean): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.hold = { test, arrived, released };
    return { arrived: arrival, release };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const record: ProxiedRequest = { at: performance.now(), ...classify(req, body.toString("utf8")) };
    this.requests.push(record);
    const hold = this.hold !== undefined && this.hold.test(record) ? this.hold : undefined;
    if (hold !== undefined) this.hold = undefined;
    const answer = await this.forward(req, body);
    hold?.arrived();
    await hold?.released;
    record.status = answer.status;
    record.answeredAt = performance.now();
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host };
      const out = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            const h: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(answer.headers)) {
              if (v !== undefined && k !== "transfer-encoding" && k !== "connection") h[k] = v;
            }
            resolve({ status: answer.statusCode ?? 502, headers: h, body: Buffer.concat(parts) });
          });
          answer.on("error", reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });
  }
}

/** The service (SigV4 credential scope) and operation of a request, in every protocol the SDK clients speak. */
function classify(req: IncomingMessage, body: string): Omit<ProxiedRequest, "at"> {
  const auth = String(req.headers.authorization ?? "");
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? "unknown";
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const method = req.method ?? "GET";
  const target = req.headers["x-amz-target"];
  let operation: string;
  if (typeof target === "string") {
    operation = target.slice(target.lastIndexOf(".") + 1); // awsJson: "Prefix_Version.Operation"
  } else if (/\/operation\/[A-Za-z]+$/.test(path)) {
    operation = path.slice(path.lastIndexOf("/") + 1); // Smithy RPC v2 CBOR (CloudWatch)
  } else if (service === "route53") {
    operation = route53Operation(method, path);
  } else {
    operation = new URLSearchParams(body).get("Action") ?? `${method} ${path}`; // awsQuery (EC2, Auto Scaling)
  }
  // An unsigned GET is no AWS call at all: `run`'s start-up probe of a hand-set endpoint (cmd/aws-preflight.ts).
  const probe = service === "unknown" && method === "GET";
  const write = probe ? false : service === "route53" ? method !== "GET" : !isReadOperation(operation);
  return { service, operation, write };
}

/** Route 53's REST paths, by what the operator sends. */
function route53Operation(method: string, path: string): string {
  if (/\/hostedzone\/[^/]+\/rrset\/?$/.test(path)) {
    return method === "POST" ? "ChangeResourceRecordSets" : "ListResourceRecordSets";
  }
  if (path.endsWith("/hostedzonesbyname")) return "ListHostedZonesByName";
  if (/\/hostedzone\/?$/.test(path)) return method === "POST" ? "CreateHostedZone" : "ListHostedZones";
  if (/\/hostedzone\/[^/]+$/.test(path) && method === "GET") return "GetHostedZone";
  return `${method} ${path}`;
}
