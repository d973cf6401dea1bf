import type { AwsClients } from "../controllers/aws/clients.ts";
import { AwsError } from "../controllers/aws/errors.ts";

/** The AWS configuration is incomplete: said once, with what to set, before any resource is planned. */
export class AwsSetupError extends Error {
  override readonly name = "AwsSetupError";
}

/**
 * Resolves the region and the credentials the SDK would use, so that a missing one is one sentence saying what to
 * set, instead of the same SDK error repeated for every resource.
 */
export async function checkAwsSetup(clients: AwsClients): Promise<void> {
  try {
    const region = await clients.ecs.config.region();
    if (!region) throw new Error("empty");
  } catch {
    throw new AwsSetupError("no AWS region: set AWS_REGION (or a profile's region), or pass --region");
  }
  try {
    await clients.ecs.config.credentials();
  } catch {
    throw new AwsSetupError(
      "no AWS credentials: the SDK found none in the environment, a profile or a task role " +
        "(against a local emulator, any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY will do)",
    );
  }
}

/** The services whose `AWS_ENDPOINT_URL_<SERVICE>` the SDK reads for the clients we build. */
const SERVICE_ENDPOINT_VARIABLES = [
  "AWS_ENDPOINT_URL_ECS",
  "AWS_ENDPOINT_URL_ROUTE_53",
  "AWS_ENDPOINT_URL_SERVICEDISCOVERY",
  "AWS_ENDPOINT_URL_AUTO_SCALING",
  "AWS_ENDPOINT_URL_EC2",
  "AWS_ENDPOINT_URL_SQS",
  "AWS_ENDPOINT_URL_S3",
];

/** An endpoint given by hand, and where it was given: what to name when it does not answer. */
export interface ConfiguredEndpoint {
  readonly url: string;
  readonly source: string;
}

/** The endpoints the SDK was told to use instead of AWS's own (the flag wins over the environment, as in the SDK). */
export function configuredEndpoints(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConfiguredEndpoint[] {
  if (flag !== undefined) return [{ url: flag, source: "--endpoint-url" }];
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true") return [];
  const out: ConfiguredEndpoint[] = [];
  for (const source of ["AWS_ENDPOINT_URL", ...SERVICE_ENDPOINT_VARIABLES]) {
    const url = env[source];
    if (url !== undefined && url !== "" && !out.some((e) => e.url === url)) out.push({ url, source });
  }
  return out;
}

/**
 * Asks each hand-configured endpoint for anything at all (any HTTP answer will do), so that a wrong or stopped
 * emulator is one sentence naming the variable, rather than one connection error per resource after the SDK's
 * retries. AWS's own endpoints are not probed: there the failures of the pass are summed up instead.
 */
export async function checkEndpoints(
  endpoints: readonly ConfiguredEndpoint[],
  timeoutMs = 5000,
): Promise<void> {
  for (const e of endpoints) {
    try {
      const res = await fetch(e.url, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
    } catch (error) {
      throw new AwsSetupError(unreachable(e, networkReason(error) ?? String(error)));
    }
  }
}

function unreachable(e: ConfiguredEndpoint, reason: string): string {
  return `cannot reach AWS at ${e.url} (${e.source}): ${reason}; start the emulator there, or fix or unset ${e.source}`;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

const CREDENTIAL_CODES = new Set([
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "ExpiredToken",
  "ExpiredTokenException",
  "AuthFailure",
  "InvalidAccessKeyId",
]);

/** Every error in a chain of causes, the outermost first. */
function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (
    let e = error;
    e !== undefined && e !== null && out.length < 10;
    e = (e as { cause?: unknown }).cause
  ) {
    out.push(e);
    if (typeof e !== "object") break;
  }
  return out;
}

function codeOf(e: unknown): string | undefined {
  if (e instanceof AwsError) return e.code;
  if (typeof e !== "object" || e === null) return undefined;
  const o = e as { code?: unknown; name?: unknown };
  if (typeof o.code === "string") return o.code;
  return typeof o.name === "string" && o.name !== "Error" ? o.name : undefined;
}

/** `connect ECONNREFUSED 127.0.0.1:5999`, or undefined when the error is not a failure to reach the endpoint. */
function networkReason(error: unknown): string | undefined {
  for (const e of causes(error)) {
    const code = codeOf(e);
    if (code !== undefined && NETWORK_CODES.has(code)) {
      const message = e instanceof AwsError ? e.message.replace(/^\S+ \S+: \S+: /, "") : (e as Error).message;
      return message || code;
    }
    if (e instanceof Error && e.name === "TimeoutError") return "no answer in time";
  }
  return undefined;
}

/** A failure that is about reaching AWS or being let in, not about one resource: the whole pass shares it. */
export interface AccessProblem {
  readonly kind: "unreachable" | "credentials";
  /** One sentence with the next step. */
  readonly summary: string;
}

/** Classifies a resource's failure as a shared access problem, or undefined when it is the resource's own. */
export function accessProblem(
  error: unknown,
  endpoints: readonly ConfiguredEndpoint[] = [],
): AccessProblem | undefined {
  for (const e of causes(error)) {
    const code = codeOf(e);
    if (code !== undefined && CREDENTIAL_CODES.has(code)) {
      const detail =
        e instanceof AwsError ? e.message.replace(/^\S+ \S+: /, "") : `${code}: ${(e as Error).message}`;
      return {
        kind: "credentials",
        summary:
          `AWS did not accept the credentials (${detail}): check what the SDK's credential chain finds ` +
          "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, the task role) and AWS_REGION",
      };
    }
  }
  const reason = networkReason(error);
  if (reason === undefined) return undefined;
  const endpoint = endpoints[0];
  return {
    kind: "unreachable",
    summary:
      endpoint !== undefined
        ? unreachable(endpoint, reason)
        : `cannot reach AWS: ${reason}; check the network (a proxy, a VPC endpoint) and AWS_REGION`,
  };
}
