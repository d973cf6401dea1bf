import { describe, expect, it } from "vitest";
import { FluentBitConfigError, renderFluentBitConfig, unsafeValueReason } from "./fluent-bit-config.ts";

describe("renderFluentBitConfig", () => {
  it("writes sections with aligned keys, in the given order", () => {
    const text = renderFluentBitConfig(
      [
        {
          name: "FILTER",
          entries: [
            ["name", "multiline"],
            ["match", "*"],
            ["multiline.parser", "java,go"],
          ],
        },
        {
          name: "FILTER",
          entries: [
            ["name", "throttle"],
            ["rate", 100],
            ["print_status", true],
          ],
        },
      ],
      ["rendered for tests"],
    );
    expect(text).toBe(
      [
        "# rendered for tests",
        "",
        "[FILTER]",
        "    name             multiline",
        "    match            *",
        "    multiline.parser java,go",
        "",
        "[FILTER]",
        "    name         throttle",
        "    rate         100",
        "    print_status On",
        "",
      ].join("\n"),
    );
  });

  // Each value tries to escape its line: end it and start a section, include a file, set or expand a variable.
  const injections: [label: string, value: string][] = [
    ["LF then a section", "x\n[OUTPUT]\n    Name stdout"],
    ["CR", "x\r[OUTPUT]"],
    ["CRLF", "x\r\n@INCLUDE /etc/passwd"],
    ["leading [", "[OUTPUT]"],
    ["leading [ after spaces", "   [INPUT]"],
    ["leading @INCLUDE", "@INCLUDE /etc/shadow"],
    ["leading @SET", "@SET a=b"],
    ["env expansion", "${AWS_SECRET_ACCESS_KEY}"],
    ["env expansion inside", "prefix-${HOME}-suffix"],
    ["NUL", "a\u0000b"],
    ["tab-free control char", "a\u001bb"],
    ["DEL", "a\u007fb"],
    ["empty", ""],
    ["blank", "   "],
  ];
  it.each(injections)("rejects a value with %s", (_label, value) => {
    expect(() => renderFluentBitConfig([{ name: "FILTER", entries: [["match", value]] }])).toThrow(
      FluentBitConfigError,
    );
  });

  it.each([
    ["bad key", "a b"],
    ["key with newline", "a\nb"],
    ["key starting with @", "@INCLUDE"],
    ["empty key", ""],
  ])("rejects a %s", (_label, key) => {
    expect(() => renderFluentBitConfig([{ name: "FILTER", entries: [[key, "v"]] }])).toThrow(
      FluentBitConfigError,
    );
  });

  it("rejects a line break in a comment and a non-finite number", () => {
    expect(() => renderFluentBitConfig([], ["a\n[OUTPUT]"])).toThrow(FluentBitConfigError);
    expect(() => renderFluentBitConfig([{ name: "FILTER", entries: [["rate", Number.NaN]] }])).toThrow(
      FluentBitConfigError,
    );
  });

  it.each([
    "env:prod,team:vr",
    "http-intake.logs.datadoghq.com",
    "/aws/ecs/app",
    "a[b]",
    "user@example.com",
    "$TAG",
  ])("accepts an ordinary value %s", (value) => {
    expect(unsafeValueReason(value)).toBeUndefined();
  });
});
