// The AWS deadlines' defaults, apart from the clients so that an offline command's modules (cmd/git-source.ts) can
// name them without loading the SDK (test/integration/offline-commands.test.ts).

/** How long a TCP (and TLS) connection to AWS may take to open. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** How long one HTTP attempt may take, from sending to the last byte of the answer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
