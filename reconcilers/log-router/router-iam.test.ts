import { describe, expect, it } from "vitest";
import type { SpecDocument } from "../../controllers/spec/document.ts";
import { taskRolePolicy } from "./router-iam.ts";

const doc = (spec: unknown, kind = "LogRouter"): SpecDocument => ({
  apiVersion: "ecs-log-operator/v1alpha1",
  kind,
  metadata: { name: "x" },
  spec,
  source: { file: "t.yaml", line: 1, col: 1 },
  generation: "g",
  positionOf: () => ({ file: "t.yaml", line: 1, col: 1 }),
});

const router = (family: string, router: unknown) =>
  doc({ family, router, output: { forward: { host: "f" } } });

describe("taskRolePolicy", () => {
  const docs = [
    router("a", { configFile: { type: "init-s3", value: "arn:aws:s3:::cfg/a/extra.conf" } }),
    router("b", {
      configFile: { type: "init-s3", value: "arn:aws-cn:s3:::cfg-cn/b/extra.conf" },
      init: { s3: ["arn:aws:s3:::cfg/shared/parsers.conf"], files: ["/fluent-bit/parsers/parsers.conf"] },
    }),
    // FireLens reads an s3 config with the execution role, not the task role; files need nothing.
    router("c", { configFile: { type: "s3", value: "arn:aws:s3:::cfg/c/extra.conf" } }),
    doc({ family: "a", source: { container: "x" }, consumers: [] }, "SidecarVolume"),
  ];

  it("grants GetObject on each init object and GetBucketLocation on its bucket, sorted and deduplicated", () => {
    expect(taskRolePolicy(docs).Statement).toEqual([
      {
        Sid: "FluentBitInitConfigObjects",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [
          "arn:aws-cn:s3:::cfg-cn/b/extra.conf",
          "arn:aws:s3:::cfg/a/extra.conf",
          "arn:aws:s3:::cfg/shared/parsers.conf",
        ],
      },
      {
        Sid: "FluentBitInitConfigBuckets",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation"],
        Resource: ["arn:aws-cn:s3:::cfg-cn", "arn:aws:s3:::cfg"],
      },
    ]);
  });

  it("narrows to one family, and grants nothing where no router reads init files", () => {
    expect(taskRolePolicy(docs, "a").Statement.flatMap((s) => s.Resource)).toEqual([
      "arn:aws:s3:::cfg/a/extra.conf",
      "arn:aws:s3:::cfg",
    ]);
    expect(taskRolePolicy(docs, "c").Statement).toEqual([]);
  });
});
