import { describe, expect, it } from "vitest";
import { PassMemo } from "./pass-memo.ts";

describe("PassMemo", () => {
  it("shares one read per key within a pass, and reads again in another pass", async () => {
    const memo = new PassMemo<number>();
    let reads = 0;
    const read = async () => ++reads;
    const pass = {};
    expect(await memo.get(pass, "a", read)).toBe(1);
    expect(await memo.get(pass, "a", read)).toBe(1);
    expect(await memo.get(pass, "b", read)).toBe(2);
    expect(await memo.get({}, "a", read)).toBe(3);
  });

  it("drops a failed read, so the next ask reads again", async () => {
    const memo = new PassMemo<string>();
    const pass = {};
    await expect(memo.get(pass, "a", () => Promise.reject(new Error("throttled")))).rejects.toThrow(
      "throttled",
    );
    await Promise.resolve();
    expect(await memo.get(pass, "a", async () => "ok")).toBe("ok");
  });

  it("forgets one key or a whole pass", async () => {
    const memo = new PassMemo<number>();
    let reads = 0;
    const read = async () => ++reads;
    const pass = {};
    await memo.get(pass, "a", read);
    await memo.get(pass, "b", read);
    memo.forget(pass, "a");
    expect(await memo.get(pass, "a", read)).toBe(3);
    expect(await memo.get(pass, "b", read)).toBe(2);
    memo.forget(pass);
    expect(await memo.get(pass, "b", read)).toBe(4);
  });
});
