import { afterEach, describe, expect, it } from "vitest";
import { createAwsClients } from "../controllers/aws/clients.ts";
import { AwsSetupError, checkAwsSetup } from "./aws-preflight.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function clearAwsEnvironment(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
  // No shared config or credentials file either.
  process.env.AWS_CONFIG_FILE = "/nonexistent/config";
  process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials";
}

describe("checkAwsSetup", () => {
  it("says to set a region when none is configured", async () => {
    clearAwsEnvironment();
    const clients = createAwsClients({ endpoint: "http://127.0.0.1:1" });
    await expect(checkAwsSetup(clients)).rejects.toThrow(AwsSetupError);
    await expect(checkAwsSetup(clients)).rejects.toThrow(/no AWS region: set AWS_REGION/);
    clients.destroy();
  });

  it("says what credentials to give, an emulator's included, when the chain finds none", async () => {
    clearAwsEnvironment();
    // The chain would try the instance metadata service next: point it nowhere so the test stays on loopback.
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    const clients = createAwsClients({ endpoint: "http://127.0.0.1:1", region: "us-east-1" });
    await expect(checkAwsSetup(clients)).rejects.toThrow(/no AWS credentials: .*any AWS_ACCESS_KEY_ID/);
    clients.destroy();
  });

  it("passes with a region and credentials", async () => {
    clearAwsEnvironment();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" });
    const clients = createAwsClients({ endpoint: "http://127.0.0.1:1", region: "us-east-1" });
    await expect(checkAwsSetup(clients)).resolves.toBeUndefined();
    clients.destroy();
  });
});
