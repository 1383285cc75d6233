import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandText, quote, sh } from "../../sandbox/runtime/shell";

/** What a real POSIX shell makes of a command: its arguments, NUL-separated. */
const argsSeenByShell = (command: string) =>
  execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${command}`], { encoding: "utf8" })
    .split("\0")
    .slice(0, -1);

describe("sh", () => {
  const hostile = [
    "plain",
    "it's",
    "a b",
    "$(id)",
    "`id`",
    "${HOME}",
    "; rm -rf /",
    "\\",
    "'",
    "''",
    '"',
    "\n",
    "*",
    "-rf",
    "",
  ];

  it.each(hostile)("passes %j to the shell as exactly one word", (value) => {
    expect(argsSeenByShell(sh`${value}`.text)).toEqual([value]);
  });

  it("quotes lists word by word and keeps literal text as written", () => {
    const command = sh`ls ${["a b", "c'd"]} | grep -c ${3} && echo ${true}`;
    expect(command.text).toBe(`ls 'a b' 'c'\\''d' | grep -c '3' && echo 'true'`);
  });

  it("inserts a nested command as is (it was quoted when built)", () => {
    const inner = sh`cat ${"/etc/my file"}`;
    expect(sh`sudo sh -c ${inner.text} && ${inner}`.text).toBe(
      `sudo sh -c 'cat '\\''/etc/my file'\\''' && cat '/etc/my file'`,
    );
  });

  it("refuses values that cannot be one safe word", () => {
    expect(() => sh`rm -rf /var/${null as unknown as string}`).toThrow("sh: cannot interpolate null");
    expect(() => sh`rm ${[] as string[]}`).toThrow("sh: an empty list was interpolated");
    expect(() => sh`echo ${{ a: 1 } as unknown as string}`).toThrow("sh: cannot interpolate object");
    expect(() => quote("a\0b")).toThrow("NUL");
  });

  it("accepts only strings and sh commands as ssh.exec commands", () => {
    expect(commandText("uptime")).toBe("uptime");
    expect(commandText(sh`uptime`)).toBe("uptime");
    expect(() => commandText({ text: "forged" })).toThrow("must be a string or built with sh");
  });
});
