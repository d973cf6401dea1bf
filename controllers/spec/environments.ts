import { closest } from "../did-you-mean.ts";

/**
 * `--environment NAME` that no spec declares would silently apply no overlay, shipping the base specs where an
 * environment's were meant: a problem, with the declared names to choose from. Undefined when fine (no environment
 * asked for, or one the specs declare). `location` is where the specs were read (a directory, a repository).
 */
export function undeclaredEnvironment(
  environment: string | undefined,
  declared: readonly string[] | undefined,
  location: string,
): string | undefined {
  if (environment === undefined || declared === undefined || declared.includes(environment)) return undefined;
  const near = closest(environment, declared);
  return (
    `--environment ${environment}: no spec under ${location} declares it ` +
    (near !== undefined
      ? `(did you mean ${near}?)`
      : declared.length > 0
        ? `(they declare: ${declared.join(", ")})`
        : "(no spec there declares environments)")
  );
}
