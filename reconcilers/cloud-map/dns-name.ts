/** DNS names compare without case and without a trailing dot. */
export function sameDnsName(a: string, b: string): boolean {
  return a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();
}
