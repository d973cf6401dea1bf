import { FormatRegistry, Type, type StringOptions } from "@sinclair/typebox";
import type { SpecIssue } from "../../controllers/spec/document.ts";

/**
 * Free text that may end up in a Fluent Bit file or a FireLens option: one line, not starting with `[` or `@`, no
 * `${`. The same rule as the emitter's, checked at load time so the error names the file and line.
 */
export const SAFE_TEXT_PATTERN = "^(?![\\s]*[\\[@])(?!.*\\$\\{)[^\\x00-\\x1f\\x7f]*$";

export function SafeText(options: StringOptions & { description: string }) {
  return Type.String({
    minLength: 1,
    pattern: SAFE_TEXT_PATTERN,
    format: NO_SECRET_FORMAT,
    errorHint:
      "one line, no leading [ or @, no ${ (Fluent Bit syntax), and no plaintext key (give a secret ARN; a key is " +
      "never shown)",
    ...options,
  });
}

/** A string that must not be a plaintext key (an ARN field, say): checked in every environment overlay too. */
export function SecretFreeString(description: string) {
  return Type.String({
    format: NO_SECRET_FORMAT,
    description,
    errorHint:
      "looks like a plaintext key: store it in Secrets Manager and give its ARN; the value is not shown",
  });
}

/** ECS container and family names: up to 255 letters, digits, hyphens and underscores. */
export const ECS_NAME_PATTERN = "^[A-Za-z0-9_-]{1,255}$";

export function EcsName(description: string) {
  return Type.String({
    pattern: ECS_NAME_PATTERN,
    format: NO_SECRET_FORMAT,
    description,
    errorHint: "letters, digits, - and _, at most 255",
  });
}

/** Field names that only ever hold a secret's value. */
const SECRET_FIELD =
  /^(api[-_]?key|apikey|password|passwd|secret|token|access[-_]?key|secret[-_]?access[-_]?key)$/i;

/** Values shaped like credentials: a Datadog API key or client token, an AWS access key id or secret key. */
const SECRET_VALUE = [
  /^[0-9a-f]{32}$/i,
  /^pub[0-9a-f]{32}$/i,
  /^(AKIA|ASIA)[0-9A-Z]{16}$/,
  /^(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9/+]{40}$/,
];

export function looksLikeSecret(value: string): boolean {
  return SECRET_VALUE.some((re) => re.test(value));
}

/**
 * A string format rejecting values shaped like keys. Unlike a pattern, a failed format is reported without the
 * value, so a pasted key is not echoed; and being part of the schema, it is checked in every `environments` overlay,
 * selected or not. TypeBox keeps formats in one process-wide registry; the check is pure, so one registration is safe.
 */
export const NO_SECRET_FORMAT = "not-a-plaintext-key";
if (!FormatRegistry.Has(NO_SECRET_FORMAT)) FormatRegistry.Set(NO_SECRET_FORMAT, (v) => !looksLikeSecret(v));

/**
 * Finds plaintext secrets anywhere in a spec: a field named like one, or a value shaped like a key. Messages never
 * include the value, so the key is not copied into terminals, CI logs or plan output.
 */
export function plaintextSecretIssues(spec: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (typeof v === "string") {
      if (looksLikeSecret(v)) {
        issues.push({
          path,
          message:
            "this value looks like a plaintext API key or access key; store it in Secrets Manager and reference " +
            "it by ARN (e.g. output.datadog.apiKeySecretArn). The value is not shown here",
        });
      }
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_FIELD.test(k) && x !== undefined) {
          issues.push({
            path: [...path, k],
            message:
              `a plaintext secret ("${k}") is not allowed in a spec; store it in Secrets Manager and reference it ` +
              "by ARN (output.datadog.apiKeySecretArn or secretOptions[].valueFrom)",
          });
          continue;
        }
        walk(x, [...path, k]);
      }
    }
  };
  walk(spec, []);
  return issues;
}

/** A Secrets Manager secret or SSM parameter ARN: what FireLens `secretOptions[].valueFrom` takes. */
export function isSecretArn(value: string): boolean {
  return /^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@:-]+|ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]+)$/.test(
    value,
  );
}
