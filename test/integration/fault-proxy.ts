import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { seededRandom } from "../seeded-random.ts";

export interface FaultRates {
  /** Answered with the protocol's throttling error, not forwarded. */
  readonly throttle: number;
  /** Answered 503, half of them before forwarding, half after (the change made, the answer lost). */
  readonly serverError: number;
  /** The connection reset, half before forwarding, half after. */
  readonly reset: number;
}

type Protocol = "json" | "route53" | "other";

/**
 * An HTTP proxy in front of the AWS emulator that injects faults: throttling answers, 5xx and connection resets,
 * some after the emulator has made the change (so the caller sees a failure for a write that happened). Faults are
 * injected on the JSON protocols (ECS, Cloud Map) and Route 53's REST-XML, in the shapes those services answer with;
 * other requests pass through.
 *
 * It also stands in for what the emulator does not model: Cloud Map's idempotency tokens. AWS answers a
 * CreatePrivateDnsNamespace, CreateService, RegisterInstance or UpdatePrivateDnsNamespace whose CreatorRequestId /
 * UpdaterRequestId it has seen with the first request's answer, without doing it again; moto would create a second
 * service. The proxy replays the first answer for a token it has forwarded.
 */
export class FaultProxy {
  readonly counts = { requests: 0, throttle: 0, serverError: 0, reset: 0, replayed: 0 };
  enabled = true;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;
  private readonly random: () => number;
  private readonly rates: FaultRates;
  private readonly tokens = new Map<
    string,
    { status: number; headers: Record<string, string>; body: Buffer }
  >();

  private constructor(target: string, seed: number, rates: FaultRates) {
    this.target = new URL(target);
    this.random = seededRandom(seed);
    this.rates = rates;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  static async start(target: string, seed: number, rates: FaultRates): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, seed, rates);
    await new Promise<void>((r) => proxy.server.listen(0, "127.0.0.1", r));
    return proxy;
  }

  get endpoint(): string {
    const a = this.server.address();
    return `http://127.0.0.1:${typeof a === "object" && a !== null ? a.port : 0}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const protocol = protocolOf(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const token = protocol === "json" ? idempotencyToken(target, body) : undefined;
    const replay = token !== undefined ? this.tokens.get(token) : undefined;
    if (replay !== undefined) {
      this.counts.replayed++;
      res.writeHead(replay.status, replay.headers).end(replay.body);
      return;
    }
    this.counts.requests++;
    const fault = this.enabled && protocol !== "other" ? this.draw() : undefined;
    const when = this.random() < 0.5 ? "before" : "after";
    if (fault === "throttle") {
      this.counts.throttle++;
      return void sendError(res, protocol, 400, protocol === "json" ? "ThrottlingException" : "Throttling");
    }
    if ((fault === "reset" || fault === "serverError") && when === "before") {
      return void this.fail(fault, req, res, protocol);
    }
    const answer = await this.forward(req, body);
    if (token !== undefined && answer.status === 200) this.tokens.set(token, answer);
    if (fault === "reset" || fault === "serverError") return void this.fail(fault, req, res, protocol);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  private draw(): keyof FaultRates | undefined {
    const r = this.random();
    const { throttle, serverError, reset } = this.rates;
    if (r < throttle) return "throttle";
    if (r < throttle + serverError) return "serverError";
    if (r < throttle + serverError + reset) return "reset";
    return undefined;
  }

  private fail(
    fault: "reset" | "serverError",
    req: IncomingMessage,
    res: ServerResponse,
    protocol: Protocol,
  ): void {
    if (fault === "reset") {
      this.counts.reset++;
      req.socket.destroy();
      return;
    }
    this.counts.serverError++;
    sendError(res, protocol, 503, "ServiceUnavailable");
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host };
      const out = httpRequest(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers },
        (answer) => {
          void readBody(answer).then((b) => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(answer.headers)) {
              if (v !== undefined && k !== "transfer-encoding" && k !== "connection") h[k] = String(v);
            }
            h["content-length"] = String(b.length);
            resolve({ status: answer.statusCode ?? 500, headers: h, body: b });
          }, reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });
  }
}

function protocolOf(req: IncomingMessage): Protocol {
  if (req.headers["x-amz-target"] !== undefined) return "json";
  if ((req.url ?? "").startsWith("/2013-04-01/")) return "route53";
  return "other";
}

const TOKEN_FIELDS: Record<string, string> = {
  CreatePrivateDnsNamespace: "CreatorRequestId",
  CreateService: "CreatorRequestId",
  RegisterInstance: "CreatorRequestId",
  UpdatePrivateDnsNamespace: "UpdaterRequestId",
};

function idempotencyToken(target: string, body: Buffer): string | undefined {
  const [service, operation] = target.split(".");
  if (!service?.startsWith("Route53AutoNaming") || operation === undefined) return undefined;
  const field = TOKEN_FIELDS[operation];
  if (field === undefined) return undefined;
  try {
    const value = (JSON.parse(body.toString("utf8")) as Record<string, unknown>)[field];
    return typeof value === "string" ? `${operation}:${value}` : undefined;
  } catch {
    return undefined;
  }
}

function sendError(res: ServerResponse, protocol: Protocol, status: number, code: string): void {
  const message = code === "ServiceUnavailable" ? "Service unavailable, try again" : "Rate exceeded";
  if (protocol === "json") {
    res
      .writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": code })
      .end(JSON.stringify({ __type: code, message }));
    return;
  }
  res
    .writeHead(status, { "content-type": "text/xml" })
    .end(
      '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
        `<Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${code}</Code>` +
        `<Message>${message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
    );
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}
