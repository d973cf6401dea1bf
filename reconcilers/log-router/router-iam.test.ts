import { describe, expect, it } from "vitest";
import type { LogRouterSpec } from "./log-router-kind.ts";
import { familiesReadingInitFiles, taskRoleStatements } from "./router-iam.ts";

const router = (family: string, router: unknown) =>
  ({ family, router, output: { forward: { host: "f" } } }) as LogRouterSpec;

describe("taskRoleStatements", () => {
  const specs = [
    router("a", { configFile: { type: "init-s3", value: "arn:aws:s3:::cfg/a/extra.conf" } }),
    router("b", {
      configFile: { type: "init-s3", value: "arn:aws-cn:s3:::cfg-cn/b/extra.conf" },
      init: { s3: ["arn:aws:s3:::cfg/shared/parsers.conf"], files: ["/fluent-bit/parsers/parsers.conf"] },
    }),
    // FireLens reads an s3 config with the execution role, not the task role; files need nothing.
    router("c", { configFile: { type: "s3", value: "arn:aws:s3:::cfg/c/extra.conf" } }),
  ];

  it("grants GetObject on each init object and GetBucketLocation on its bucket, sorted and deduplicated", () => {
    expect(taskRoleStatements(specs, undefined)).toEqual([
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
    expect(taskRoleStatements(specs, "a").flatMap((s) => s.Resource)).toEqual([
      "arn:aws:s3:::cfg/a/extra.conf",
      "arn:aws:s3:::cfg",
    ]);
    expect(taskRoleStatements(specs, "c")).toEqual([]);
    expect(familiesReadingInitFiles(specs)).toEqual(["a", "b"]);
  });
});
