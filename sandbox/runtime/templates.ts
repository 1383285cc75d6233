/**
 * The `ps` and `uri` tags: like `sh`, literal text plus values that can never become syntax.
 * `ps` turns each value into a PowerShell single-quoted string (a quote is doubled; PowerShell
 * also closes single-quoted strings on the typographic quotes U+2018–U+201B, so those are
 * doubled too). `uri` percent-encodes each value with encodeURIComponent.
 */

const scripts = new WeakSet<object>();

export class PsScript {
  constructor(readonly text: string) {
    scripts.add(this);
    Object.freeze(this);
  }
  toString(): string {
    return this.text;
  }
}

export function isPsScript(value: unknown): value is PsScript {
  return typeof value === "object" && value !== null && scripts.has(value);
}

const PS_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/** 'it''s' — a PowerShell verbatim string: no variables, no subexpressions, no escapes. */
export function psQuote(word: string): string {
  if (word.includes("\0")) throw new TypeError("ps: a value contains a NUL character");
  return `'${word.replace(PS_QUOTES, (q) => q + q)}'`;
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value;
}

function psScalar(value: unknown): string {
  if (typeof value === "string") return psQuote(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("ps: a number must be finite");
    return psQuote(String(value));
  }
  if (typeof value === "boolean") return value ? "$true" : "$false";
  throw new TypeError(`ps: cannot interpolate ${describe(value)}`);
}

function psInterpolate(value: unknown): string {
  if (isPsScript(value)) return value.text;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeError("ps: an empty list was interpolated");
    // @('a', 'b'): one PowerShell array whatever the context.
    return `@(${value.map((v) => psScalar(v)).join(", ")})`;
  }
  return psScalar(value);
}

export function ps(strings: TemplateStringsArray, ...values: unknown[]): PsScript {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    text += psInterpolate(value) + (strings[i + 1] ?? "");
  });
  return new PsScript(text);
}

/** What powershell.run accepts: a PsScript from ps, or a constant string. */
export function scriptText(script: unknown): string {
  if (isPsScript(script)) return script.text;
  if (typeof script === "string") return script;
  throw new TypeError("powershell.run: the script must be a string or built with ps`...`");
}

export function uri(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
      throw new TypeError(`uri: cannot interpolate ${describe(value)}`);
    text += encodeURIComponent(String(value)) + (strings[i + 1] ?? "");
  });
  return text;
}
