/**
 * The `sh` tag: commands are built from literal text plus values that are each turned into
 * POSIX single-quoted words, so no value is ever spliced into a command as shell syntax.
 */

const commands = new WeakSet<object>();

export class ShellCommand {
  constructor(readonly text: string) {
    commands.add(this);
    Object.freeze(this);
  }
  toString(): string {
    return this.text;
  }
}

export function isShellCommand(value: unknown): value is ShellCommand {
  return typeof value === "object" && value !== null && commands.has(value);
}

/** 'it'\''s' — the one quoting that is inert in every POSIX shell. */
export function quote(word: string): string {
  if (word.includes("\0")) throw new TypeError("sh: a value contains a NUL character");
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function interpolate(value: unknown): string {
  if (isShellCommand(value)) return value.text;
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean") return quote(String(value));
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeError("sh: an empty list was interpolated");
    return value
      .map((v) => {
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
          throw new TypeError(`sh: a list element is ${v === null ? "null" : typeof v}`);
        return quote(String(v));
      })
      .join(" ");
  }
  throw new TypeError(`sh: cannot interpolate ${value === null ? "null" : typeof value}`);
}

export function sh(strings: TemplateStringsArray, ...values: unknown[]): ShellCommand {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    text += interpolate(value) + (strings[i + 1] ?? "");
  });
  return new ShellCommand(text);
}

/** What ssh.exec accepts: a ShellCommand from sh, or a constant string. */
export function commandText(command: unknown): string {
  if (isShellCommand(command)) return command.text;
  if (typeof command === "string") return command;
  throw new TypeError("ssh.exec: the command must be a string or built with sh`...`");
}
