import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellJoin, shellQuote } from "../../src/capabilities/shell-quote";
import { CapabilityError } from "../../src/capabilities/types";

/** What a real POSIX shell makes of a quoted word. */
function throughSh(quoted: string): string {
  return execFileSync("/bin/sh", ["-c", `printf %s ${quoted}`], { encoding: "utf8" });
}

const HOSTILE = [
  "",
  "plain",
  "two words",
  "it's",
  "'",
  "''",
  "'\\''",
  '"double"',
  "back\\slash",
  "trailing\\",
  "$(touch /tmp/intentflow-pwned)",
  "`touch /tmp/intentflow-pwned`",
  "${HOME}",
  "$HOME",
  "$?",
  "a; rm -rf /",
  "a && b || c",
  "a | b",
  "> /etc/passwd",
  "< /etc/shadow",
  "line1\nline2",
  "\n",
  "tab\there",
  "carriage\rreturn",
  "*",
  "?",
  "[a-z]",
  "~",
  "~root",
  "#comment",
  "!history",
  "a=b",
  "-n",
  "--help",
  "%s%d",
  "{a,b}",
  "(subshell)",
  "&",
  "héllo wörld ✓ 日本",
  "emoji 🚀",
  "\u0001\u001b[31m",
  "   ",
  "x".repeat(5000),
];

describe("shellQuote", () => {
  it.each(HOSTILE.map((s) => [JSON.stringify(s).slice(0, 60), s]))(
    "round-trips %s through /bin/sh",
    (_label, value) => {
      expect(throughSh(shellQuote(value))).toBe(value);
    },
  );

  it("leaves plain words bare and quotes everything else", () => {
    expect(shellQuote("nginx")).toBe("nginx");
    expect(shellQuote("/var/log/syslog")).toBe("/var/log/syslog");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("a=b")).toBe("'a=b'");
    expect(shellQuote("~")).toBe("'~'");
  });

  it("refuses NUL, which no argv can carry", () => {
    expect(() => shellQuote("a\0b")).toThrow(CapabilityError);
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });

  it("keeps words separate when joined", () => {
    const words = ["printf", "%s|", "a b", "$(id)", "it's", ""];
    expect(execFileSync("/bin/sh", ["-c", shellJoin(words)], { encoding: "utf8" })).toBe("a b|$(id)|it's||");
  });
});
