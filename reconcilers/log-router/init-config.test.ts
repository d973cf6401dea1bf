import { describe, expect, it } from "vitest";
import { initImageKind, initObjects, initVariables, routerImage } from "./init-config.ts";
import type { LogRouterSpec } from "./log-router-kind.ts";

const spec = (router: LogRouterSpec["router"]): LogRouterSpec => ({
  family: "app",
  router,
  output: { forward: { host: "fluentd.local" } },
});

describe("the aws-for-fluent-bit init image", () => {
  it.each([
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest", "init"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit:init-2.32.2.20240425", "init"],
    ["906394416424.dkr.ecr.ap-northeast-1.amazonaws.com/aws-for-fluent-bit:init-latest", "init"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "not-init"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit", "not-init"],
    ["amazon/aws-for-fluent-bit:2.32.2", "not-init"],
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/custom-fluent-bit:1", "unknown"],
    ["public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:0123", "unknown"],
    ["localhost:5000/aws-for-fluent-bit:init-latest", "init"],
  ] as const)("%s is %s", (image, kind) => {
    expect(initImageKind(image)).toBe(kind);
  });

  it("numbers the variables: the rendered config first, then the spec's S3 objects and files", () => {
    const s = spec({
      configFile: { type: "init-s3", value: "arn:aws:s3:::cfg/app/extra.conf" },
      init: { s3: ["arn:aws:s3:::cfg/shared/parsers.conf"], files: ["/fluent-bit/parsers/parsers.conf"] },
    });
    expect(initVariables(s)).toEqual([
      { name: "aws_fluent_bit_init_s3_1", value: "arn:aws:s3:::cfg/app/extra.conf" },
      { name: "aws_fluent_bit_init_s3_2", value: "arn:aws:s3:::cfg/shared/parsers.conf" },
      { name: "aws_fluent_bit_init_file_1", value: "/fluent-bit/parsers/parsers.conf" },
    ]);
    expect(initObjects(s).map((o) => `${o.bucket}/${o.key}`)).toEqual([
      "cfg/app/extra.conf",
      "cfg/shared/parsers.conf",
    ]);
  });

  it("defaults to AWS's init tag only when the router reads init variables", () => {
    expect(routerImage(spec({}))).toBe("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable");
    expect(routerImage(spec({ init: { files: ["/x.conf"] } }))).toBe(
      "public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest",
    );
    expect(routerImage(spec({ image: "mine:1", init: { files: ["/x.conf"] } }))).toBe("mine:1");
  });
});
