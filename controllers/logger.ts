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

/** Errors become their message (and code), never a stack trace. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { message: value.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return value;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
