import { describe, expect, it } from "vitest";
import { OutputCapture } from "../../src/capabilities/output-capture";

describe("output capture", () => {
  it("decodes characters split across chunks", () => {
    const seen: string[] = [];
    const capture = new OutputCapture(1024, (_s, t) => seen.push(t));
    const bytes = Buffer.from("héllo ✓");
    for (const b of bytes) capture.push("stdout", Buffer.from([b]));
    expect(capture.result()).toEqual({ stdout: "héllo ✓", stderr: "", truncated: false });
    expect(seen.join("")).toBe("héllo ✓");
  });

  it("caps each stream separately and drops a character the cap cuts in half", () => {
    const capture = new OutputCapture(4, () => {});
    capture.push("stdout", Buffer.from("abc✓def")); // ✓ is 3 bytes: only its first fits
    capture.push("stderr", Buffer.from("ok"));
    expect(capture.result()).toEqual({ stdout: "abc", stderr: "ok", truncated: true });
  });

  it("keeps capturing when the live listener throws", () => {
    const capture = new OutputCapture(100, () => {
      throw new Error("log sink down");
    });
    capture.push("stdout", Buffer.from("a"));
    capture.push("stdout", Buffer.from("b"));
    expect(capture.result().stdout).toBe("ab");
  });
});
