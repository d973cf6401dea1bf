import { describe, expect, it } from "vitest";
import {
  editDistance,
  isPropertyOf,
  isSecretPropertyOf,
  nearestProperty,
  OUTPUT_PLUGINS,
} from "./fluent-bit-output-properties.ts";

describe("Fluent Bit output properties", () => {
  it.each([
    ["datadog", "Host", true],
    ["datadog", "TLS", true],
    ["datadog", "dd_service", true],
    ["datadog", "apikey", true],
    ["datadog", "gcp_service_account", false],
    ["datadog", "Hots", false],
    ["cloudwatch", "log_group_name", true],
    ["cloudwatch", "net.keepalive", false], // cloudwatch_logs does not use the upstream interface
    ["s3", "net.keepalive", true],
    ["s3", "storage.total_limit_size", true],
    ["opensearch", "AWS_Auth", true],
    ["opensearch", "Suppress_Type_Name", true],
    ["forward", "shared_key", true],
    ["firehose", "delivery_stream", true],
  ] as const)("%s has %s: %s", (kind, name, known) => {
    expect(isPropertyOf(OUTPUT_PLUGINS[kind], name)).toBe(known);
  });

  it("knows which properties hold credentials", () => {
    expect(isSecretPropertyOf(OUTPUT_PLUGINS.datadog, "APIKEY")).toBe(true);
    expect(isSecretPropertyOf(OUTPUT_PLUGINS.opensearch, "http_passwd")).toBe(true);
    expect(isSecretPropertyOf(OUTPUT_PLUGINS.s3, "tls.key_passwd")).toBe(true);
    expect(isSecretPropertyOf(OUTPUT_PLUGINS.s3, "bucket")).toBe(false);
  });

  it.each([
    ["datadog", "Hots", "host"],
    ["datadog", "dd_servce", "dd_service"],
    ["s3", "compresion", "compression"],
    ["opensearch", "http_passwrd", "http_passwd"],
    ["datadog", "gcp_service_account", undefined],
    ["s3", "x", undefined],
  ] as const)("suggests for %s %s: %s", (kind, name, near) => {
    expect(nearestProperty(OUTPUT_PLUGINS[kind], name)).toBe(near);
  });

  it("counts a swap of two neighbours once", () => {
    expect(editDistance("hots", "host")).toBe(1);
    expect(editDistance("abc", "abc")).toBe(0);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});
