/** Structured logs: one JSON object a line, each with a message and the fields of one decision. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class JsonLogger implements Logger {
  private readonly write: (line: string) => void;
  private readonly level: LogLevel;
  private readonly fields: Record<string, unknown>;
  private readonly now: () => Date;

  constructor(
    options: {
      write?: (line: string) => void;
      level?: LogLevel;
      fields?: Record<string, unknown>;
      now?: () => Date;
    } = {},
  ) {
    this.write = options.write ?? ((line) => process.stdout.write(line + "\n"));
    this.level = options.level ?? "info";
    this.fields = options.fields ?? {};
    this.now = options.now ?? (() => new Date());
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.level]) return;
    this.write(
      JSON.stringify(
        { time: this.now().toISOString(), level, msg, ...this.fields, ...fields },
        errorReplacer,
      ),
    );
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger({
      write: this.write,
      level: this.level,
      fields: { ...this.fields, ...fields },
      now: this.now,
    });
  }
}

/** How many causes of an error are logged: enough for an AWS error's SDK error and its socket error. */
const MAX_CAUSES = 5;

/**
 * Errors become their message (and code) with the chain of their causes, never a stack trace: an `AwsError` says what
 * the operator was doing, its cause what the SDK saw (a socket reset, a DNS failure), which is what an operator needs
 * to tell a network fault from a permission one.
 */
function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? errorFields(value, MAX_CAUSES) : value;
}

function errorFields(error: Error, depth: number): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const cause: unknown = error.cause;
  return {
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(cause === undefined || depth === 0
      ? {}
      : { cause: cause instanceof Error ? errorFields(cause, depth - 1) : causeText(cause) }),
  };
}

function causeText(cause: unknown): string {
  if (typeof cause === "string") return cause;
  try {
    return JSON.stringify(cause) ?? String(cause);
  } catch {
    return String(cause);
  }
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
