import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Terraform with the hashicorp/aws provider applying `records` weighted A records to one zone of the emulator: the
 * alternative a team would pick instead of the operator. The provider comes from the machine's offline plugin mirror.
 * Returns the wall time of `terraform apply` alone (init is excluded: it is paid once, not per change).
 */
export async function terraformApplyWeightedRecords(options: {
  endpoint: string;
  zoneId: string;
  name: string;
  /** Each record at `name`, or at its own `name` (shards: Route 53 holds at most 100 weighted records a name). */
  records: { setIdentifier: string; ip: string; name?: string }[];
  pluginMirror?: string;
}): Promise<{ applySeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-terraform-"));
  try {
    const cliConfig = join(dir, "terraformrc");
    await writeFile(
      cliConfig,
      `provider_installation {\n  filesystem_mirror {\n    path = "${options.pluginMirror ?? "/opt/tf-plugins"}"\n  }\n}\n`,
    );
    const records = options.records
      .map(
        (r, i) => `resource "aws_route53_record" "r${i}" {
  zone_id        = "${options.zoneId}"
  name           = "${r.name ?? options.name}"
  type           = "A"
  ttl            = 10
  records        = ["${r.ip}"]
  set_identifier = "${r.setIdentifier}"
  weighted_routing_policy {
    weight = 10
  }
}
`,
      )
      .join("\n");
    await writeFile(
      join(dir, "main.tf"),
      `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    route53 = "${options.endpoint}"
    sts     = "${options.endpoint}"
  }
}
${records}`,
    );
    const env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
    };
    await run("terraform", ["init", "-input=false", "-no-color"], { cwd: dir, env, maxBuffer: 64 << 20 });
    const started = performance.now();
    await run("terraform", ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"], {
      cwd: dir,
      env,
      maxBuffer: 64 << 20,
    });
    return { applySeconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
