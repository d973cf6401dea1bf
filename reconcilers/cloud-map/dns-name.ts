/** DNS names compare without case and without a trailing dot. */
export function sameDnsName(a: string, b: string): boolean {
  return a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();
}

/** A DNS name as a map key: `sameDnsName` names give the same key. */
export function dnsNameKey(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}
