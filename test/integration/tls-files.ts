import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by openssl (Debian's `openssl`, installed by
 * test/ensure-tools.sh): what a test serves HTTPS with, and what its clients trust as their CA.
 */
export function selfSignedCertificate(dir: string, name = "server"): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "pipe" },
  );
  return { cert, key };
}
