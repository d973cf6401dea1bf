import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { systemClock, type Clock } from "../clock.ts";

/** Credentials as the SDK takes them (@smithy/types' AwsCredentialIdentity). */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** A credential provider the SDK calls before signing each request. */
export type CredentialSource = (options?: Record<string, unknown>) => Promise<Credentials>;

/** Temporary credentials are renewed this long before they expire, as the SDK itself does. */
const REFRESH_BEFORE_MS = 5 * 60_000;

export interface RefreshableCredentials {
  /**
   * Given to every client as `credentials`. Marked `memoized`, so the SDK calls it before each request and does not
   * cache on top of it (a cache the operator could not empty): it answers from its own cache.
   */
  readonly provider: CredentialSource & { memoized: true };
  /** Forgets what it holds: the next request asks the credential chain again (after AWS said the token expired). */
  refresh(): void;
}

/**
 * One credential cache for every client of the process, which the operator can empty. The SDK's own cache keeps
 * temporary credentials until five minutes before their stated expiration; when AWS answers `ExpiredToken` earlier (a
 * revoked session, a skewed clock), only a new request to the chain helps, and the SDK would not make it.
 */
export function refreshableCredentials(
  chain: () => CredentialSource = () => defaultProvider() as CredentialSource,
  clock: Clock = systemClock,
): RefreshableCredentials {
  let source = chain();
  let cached: Promise<Credentials> | undefined;
  const fresh = (c: Credentials): boolean =>
    c.expiration === undefined || c.expiration.getTime() - clock.now() > REFRESH_BEFORE_MS;
  const provider = Object.assign(
    async (options?: Record<string, unknown>): Promise<Credentials> => {
      if (cached !== undefined) {
        const held = await cached.catch(() => undefined);
        if (held !== undefined && fresh(held)) return held;
        cached = undefined;
      }
      const asked = source(options);
      cached = asked;
      try {
        return await asked;
      } catch (error) {
        if (cached === asked) cached = undefined;
        throw error;
      }
    },
    { memoized: true as const },
  );
  return {
    provider,
    refresh() {
      cached = undefined;
      source = chain();
    },
  };
}
