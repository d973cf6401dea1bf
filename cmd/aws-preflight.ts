import type { AwsClients } from "../controllers/aws/clients.ts";

/** The AWS configuration is incomplete: said once, with what to set, before any resource is planned. */
export class AwsSetupError extends Error {
  override readonly name = "AwsSetupError";
}

/**
 * Resolves the region and the credentials the SDK would use, so that a missing one is one sentence saying what to
 * set, instead of the same SDK error repeated for every resource.
 */
export async function checkAwsSetup(clients: AwsClients): Promise<void> {
  try {
    const region = await clients.ecs.config.region();
    if (!region) throw new Error("empty");
  } catch {
    throw new AwsSetupError("no AWS region: set AWS_REGION (or a profile's region), or pass --region");
  }
  try {
    await clients.ecs.config.credentials();
  } catch {
    throw new AwsSetupError(
      "no AWS credentials: the SDK found none in the environment, a profile or a task role " +
        "(against a local emulator, any AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY will do)",
    );
  }
}
