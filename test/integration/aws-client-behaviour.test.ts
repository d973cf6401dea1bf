import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../controllers/aws/clients.ts";
import { refreshableCredentials, type Credentials } from "../../controllers/aws/credentials.ts";
import { AwsError } from "../../controllers/aws/errors.ts";
import { AwsRoute53Api } from "../../reconcilers/weighted-record-set/aws-route53-api.ts";

/**
 * The SDK clients as the operator builds them, against a local HTTP server that answers as Route 53 does (its
 * REST-XML error shape), so that what the emulator never answers (Throttling, ExpiredToken, a hung socket) is sent
 * through the real SDK, its retry loop and its signing. An in-process stand-in, not an AWS emulator.
 */
const EMPTY_ZONES =
  '<?xml version="1.0"?><ListHostedZonesResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
  "<HostedZones/><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesResponse>";

function route53Error(code: string, message: string): string {
  return (
    '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
    `<Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
    "<RequestId>r-1</RequestId></ErrorResponse>"
  );
}

type Answer = { status: number; body: string } | "hang";

let servers: { close(): void }[] = [];
let clients: AwsClients[] = [];
afterEach(() => {
  for (const c of clients) c.destroy();
  for (const s of servers) s.close();
  clients = [];
  servers = [];
});

/** A server answering each request with the next scripted answer (the last one repeats), recording the requests. */
async function scripted(answers: Answer[]): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    if (answer === "hang") return;
    res.writeHead(answer.status, { "content-type": "text/xml" }).end(answer.body);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  });
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, requests };
}

function route53At(url: string, options: Parameters<typeof createAwsClients>[0] = {}): AwsRoute53Api {
  const c = createAwsClients({
    region: "us-east-1",
    endpoint: url,
    credentials: refreshableCredentials(() => async () => ({ accessKeyId: "AKIA1", secretAccessKey: "s" })),
    ...options,
  });
  clients.push(c);
  return new AwsRoute53Api(c);
}

describe("the operator's AWS clients", () => {
  it("fail at once on throttling, leaving the retry to the work queue's backoff", async () => {
    const server = await scripted([{ status: 400, body: route53Error("Throttling", "Rate exceeded") }]);
    const error = await route53At(server.url)
      .listZones()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).errorClass).toBe("throttled");
    expect(server.requests).toHaveLength(1);
  });

  it("retry a 5xx inside the call", async () => {
    const server = await scripted([
      { status: 503, body: route53Error("ServiceUnavailable", "try again") },
      { status: 200, body: EMPTY_ZONES },
    ]);
    expect(await route53At(server.url).listZones()).toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it("retry once with new credentials after ExpiredToken, the request signed again", async () => {
    const server = await scripted([
      {
        status: 403,
        body: route53Error("ExpiredToken", "The security token included in the request is expired"),
      },
      { status: 200, body: EMPTY_ZONES },
    ]);
    let chains = 0;
    const credentials = refreshableCredentials(() => {
      const n = ++chains;
      return async (): Promise<Credentials> => ({
        accessKeyId: `AKIA${n}`,
        secretAccessKey: "s",
        sessionToken: `t${n}`,
      });
    });
    expect(await route53At(server.url, { credentials }).listZones()).toEqual([]);
    const signedWith = server.requests.map(
      (r) => /Credential=(\w+)\//.exec(r.headers.authorization ?? "")?.[1],
    );
    expect(signedWith).toEqual(["AKIA1", "AKIA2"]);
    expect(server.requests.map((r) => r.headers["x-amz-security-token"])).toEqual(["t1", "t2"]);
  });

  it("give up on an endpoint that accepts and never answers after the request timeout, without retrying", async () => {
    const server = await scripted(["hang"]);
    const error = await route53At(server.url, { requestTimeoutMs: 300 })
      .listZones()
      .catch((e: unknown) => e);
    expect((error as AwsError).errorClass).toBe("timeout");
    expect((error as AwsError).message).toMatch(/--aws-request-timeout/);
    expect(server.requests).toHaveLength(1);
  });

  it("abort the SDK call when the caller's signal aborts", async () => {
    const sockets: Socket[] = [];
    // Accepts, reads whatever comes, never answers.
    const tcp = createTcpServer((s) => sockets.push(s.resume()));
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    servers.push({
      close: () => {
        for (const s of sockets) s.destroy();
        tcp.close();
      },
    });
    const address = tcp.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const ac = new AbortController();
    const call = route53At(url, { requestTimeoutMs: 60_000 })
      .listZones(ac.signal)
      .catch((e: unknown) => e);
    while (sockets.length === 0) await new Promise((r) => setImmediate(r));
    ac.abort(new Error("deadline"));
    const error = await call;
    expect((error as AwsError).errorClass).toBe("timeout");
    // The abort reaches the socket: the client closes its connection (the server sees it end).
    const socket = sockets[0]!;
    if (!socket.readableEnded) await new Promise((r) => socket.once("end", r));
    expect(socket.readableEnded).toBe(true);
  });
});
