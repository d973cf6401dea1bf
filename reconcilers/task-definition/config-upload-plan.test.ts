import { describe, expect, it } from "vitest";
import { planConfigUpload, type DesiredConfigObject } from "./config-upload-plan.ts";

const desired: DesiredConfigObject = {
  family: "api",
  label: "Fluent Bit config",
  object: { partition: "aws", bucket: "example-log-config", key: "api/extra.conf" },
  text: "[FILTER]\n    name multiline\n",
};

describe("planConfigUpload", () => {
  it("creates a missing object", () => {
    expect(planConfigUpload(desired, undefined)).toEqual({
      action: "create",
      target: "s3://example-log-config/api/extra.conf (Fluent Bit config for family api)",
      detail: "28 bytes, as `render` prints it",
    });
  });

  it("replaces an object whose content differs, without printing either content", () => {
    const edited = "[FILTER]\n    name grep\n    # api_key=hunter2\n";
    const change = planConfigUpload(desired, edited);
    expect(change).toMatchObject({
      action: "update",
      target: "s3://example-log-config/api/extra.conf (Fluent Bit config for family api)",
    });
    expect(JSON.stringify(change)).not.toMatch(/hunter2|multiline|grep/);
  });

  it.each([
    ["a trailing newline removed", desired.text.trimEnd()],
    ["CRLF line ends", desired.text.replace(/\n/g, "\r\n")],
    ["an empty object", ""],
  ])("replaces an object with %s: the comparison is exact", (_, observed) => {
    expect(planConfigUpload(desired, observed)?.action).toBe("update");
  });

  it("has nothing to do when the object holds the rendered text", () => {
    expect(planConfigUpload(desired, desired.text)).toBeUndefined();
  });
});
