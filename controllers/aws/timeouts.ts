// The AWS clients' default deadlines, apart from the clients themselves: commands that only parse flags (validate,
// iam-policy) read them without loading an SDK client.

/** How long a TCP (and TLS) connection to AWS may take to open. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** How long one HTTP attempt may take, from sending to the last byte of the answer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
