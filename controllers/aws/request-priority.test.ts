import { describe, expect, it } from "vitest";
import { currentPriority, inBackground } from "./request-priority.ts";

describe("inBackground", () => {
  it("marks the requests made inside it, across awaits, and no others", async () => {
    expect(currentPriority()).toBe("foreground");
    const seen = await inBackground(async () => {
      await Promise.resolve();
      return currentPriority();
    });
    expect(seen).toBe("background");
    expect(currentPriority()).toBe("foreground");
  });
});
