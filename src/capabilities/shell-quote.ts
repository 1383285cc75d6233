import { CapabilityError } from "./types";

/**
 * POSIX shell quoting for one word. Inside single quotes nothing is special to sh, so the
 * only character to handle is the single quote itself: close the quotes, add an escaped
 * quote, reopen ('it'\''s'). NUL cannot be passed through argv at all, so it is refused
 * rather than silently cut short.
 */

/** Words made only of these are left bare, so reviewed commands stay readable (`systemctl restart nginx`). */
const BARE_SAFE = /^[A-Za-z0-9_./:@%+,-]+$/;

export function shellQuote(value: string): string {
  if (typeof value !== "string") throw new CapabilityError("invalid_argument", "shellQuote expects a string");
  if (value.includes("\0")) throw new CapabilityError("invalid_argument", "value contains a NUL byte");
  if (BARE_SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces: a whole command line from argv. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
