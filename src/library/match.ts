import type { Inventory } from "../inventory/types";
import type { LibraryEntryRecord } from "../store/types";

/**
 * Lexical matching of an intent against the flow library, with parameter extraction.
 *
 * 1. Parameter values are taken out of the intent first: host selectors the inventory resolves
 *    (`web1`, `group:web`, `tag:prod`, `web[1-3]`, a bare group name), numbers (`90`, `90%`),
 *    and, for an entry with string parameters, the words that entry's vocabulary does not know
 *    (at most one per string parameter, else none is taken).
 * 2. The rest is normalised into content tokens: lower case, split on anything but letters and
 *    digits, stop words dropped, a plural `s` stripped. The entry's vocabulary is the tokens of its
 *    name, description and examples, less its string parameters' defaults and the inventory's
 *    host, group and tag names (they are values, not meaning).
 * 3. The score is the best Dice coefficient, 2·|A∩B| / (|A|+|B|), between the intent's tokens and
 *    each example's tokens (and name + description as one more document). An entry answers when its
 *    score is at least LIBRARY_THRESHOLD (0.75): "check nginx on web1" ≈ "check nginx on web1 and
 *    web2" (1.0), "restart nginx on web1" is not (0.5).
 *
 * An intent holding a selector that does not resolve (`group:nope`, `web[1-99]` beyond the
 * inventory) is not answered: it names hosts the library cannot read, and the planner says so.
 *
 * Limits: no synonyms ("verify" ≠ "check"), no negation ("do not restart"), word order ignored,
 * one unknown word is read as a service name ("check disk" against a service check gives
 * service=disk), numbers are given to number parameters in the order they appear.
 */

export const LIBRARY_THRESHOLD = 0.75;

const STOP = new Set(
  "a an and the on of in at to for from with by is are be it its this that these those all every each please me my our can you whether if where when then or any some host hosts server servers machine machines".split(
    " ",
  ),
);

export function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t && !STOP.has(t) && !/^\d+$/.test(t))
    .map((t) => (t.length > 3 && t.endsWith("s") && !t.endsWith("ss") ? t.slice(0, -1) : t));
}

function dice(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let common = 0;
  for (const t of a) if (b.has(t)) common++;
  return (2 * common) / (a.size + b.size);
}

export type Extracted = {
  /** Host names the intent named, resolved through the inventory; null when it named none. */
  hosts: string[] | null;
  numbers: number[];
  /** The words the intent used for hosts and numbers, left out of the lexical score. */
  consumed: Set<string>;
  /** Host, group and tag names of the inventory: values, never meaning, in examples as in intents. */
  inventoryWords: Set<string>;
  /**
   * Words written as host selectors (`group:x`, `tag:x`, `web[1-9]`) that the inventory does not
   * resolve: the intent names hosts the library cannot read, so no entry answers it.
   */
  unresolved: string[];
};

/** Selector syntax the inventory's grammar uses beyond plain names. */
const SELECTOR_SYNTAX = /^(group|tag):|\[[^\]]*\]/i;

/** Host selectors and numbers in the intent, read through the inventory's own selector grammar. */
export function extractValues(text: string, inventory: Inventory): Extracted {
  const view = inventory.describe();
  const groups = new Set(view.groups.map((g) => g.toLowerCase()));
  const hosts: string[] = [];
  const numbers: number[] = [];
  const consumed = new Set<string>();
  const unresolved: string[] = [];
  const inventoryWords = new Set(
    [...view.hosts.map((h) => h.name), ...view.groups, ...view.tags].flatMap((w) => tokens(w)),
  );
  for (const raw of text.split(/[\s,;]+/)) {
    const word = raw.replace(/^[("'`]+|[)"'`.!?:]+$/g, "");
    if (!word) continue;
    const num = /^(\d+(?:\.\d+)?)%?$/.exec(word);
    if (num) {
      numbers.push(Number(num[1]));
      continue;
    }
    const candidates = [word, ...(groups.has(word.toLowerCase()) ? [`group:${word}`] : [])];
    let resolvedOne = false;
    for (const c of candidates) {
      const resolved = resolveOrNull(inventory, c);
      if (!resolved?.length) continue;
      hosts.push(...resolved.filter((h) => !hosts.includes(h)));
      for (const t of tokens(word)) consumed.add(t);
      resolvedOne = true;
      break;
    }
    if (!resolvedOne && SELECTOR_SYNTAX.test(word)) unresolved.push(word);
  }
  return { hosts: hosts.length ? hosts : null, numbers, consumed, inventoryWords, unresolved };
}

function resolveOrNull(inventory: Inventory, selector: string): string[] | null {
  try {
    return inventory.resolve([selector]);
  } catch {
    return null;
  }
}

export type LibraryMatch = {
  entry: LibraryEntryRecord;
  score: number;
  /** Values for the entry's parameters the intent gave (the rest keep their defaults). */
  params: Record<string, unknown>;
  /** The hosts the intent named (null: none, the approved ones apply). */
  hosts: string[] | null;
  /** Host selectors in the intent the inventory does not resolve (see Extracted). */
  unresolved: string[];
};

/** Scores one entry; the parameters it could fill from the intent. */
export function scoreEntry(entry: LibraryEntryRecord, text: string, found: Extracted): LibraryMatch {
  const defaults = new Set(
    entry.params
      .filter((p) => p.type === "string" && typeof p.default === "string")
      .flatMap((p) => tokens(p.default as string)),
  );
  const docs = [...entry.examples, `${entry.name} ${entry.description}`].map(
    (d) => new Set(tokens(d).filter((t) => !defaults.has(t) && !found.inventoryWords.has(t))),
  );
  const vocabulary = new Set(docs.flatMap((d) => [...d]));
  const words = tokens(text).filter((t) => !found.consumed.has(t) && !found.inventoryWords.has(t));
  const params: Record<string, unknown> = {};
  const stringParams = entry.params.filter((p) => p.type === "string");
  const unknown = [...new Set(words.filter((t) => !vocabulary.has(t)))];
  const taken = new Set<string>();
  if (stringParams.length && unknown.length && unknown.length <= stringParams.length) {
    // The original spelling of the word, not its normalised token.
    const original = text.split(/[^A-Za-z0-9_.-]+/);
    unknown.forEach((t, i) => {
      params[stringParams[i]!.name] = original.find((w) => tokens(w)[0] === t) ?? t;
      taken.add(t);
    });
  }
  // A default named in the intent is a value too: it stays the default and does not score.
  const intent = new Set(words.filter((t) => !taken.has(t) && !defaults.has(t)));
  const score = Math.max(0, ...docs.map((d) => dice(intent, d)));
  const numberParams = entry.params.filter((p) => p.type === "number");
  found.numbers.slice(0, numberParams.length).forEach((n, i) => (params[numberParams[i]!.name] = n));
  const hostsParam = entry.params.find((p) => p.type === "hosts");
  if (hostsParam && found.hosts) params[hostsParam.name] = found.hosts;
  return {
    entry,
    score: Math.round(score * 1000) / 1000,
    params,
    hosts: found.hosts,
    unresolved: found.unresolved,
  };
}

/** Every entry scored against the intent, best first; ties keep the older entry first. */
export function rankLibrary(
  entries: readonly LibraryEntryRecord[],
  text: string,
  inventory: Inventory,
): LibraryMatch[] {
  if (!entries.length) return [];
  const found = extractValues(text, inventory);
  // Array.prototype.sort is stable: equal scores stay in the entries' order (oldest first).
  return entries.map((e) => scoreEntry(e, text, found)).sort((a, b) => b.score - a.score);
}

/**
 * The best entry at or above the threshold, or null. Ties go to the older entry. An intent naming
 * host selectors the inventory does not resolve is never answered (the planner reports them).
 */
export function matchLibrary(
  entries: readonly LibraryEntryRecord[],
  text: string,
  inventory: Inventory,
  threshold = LIBRARY_THRESHOLD,
): LibraryMatch | null {
  const [best] = rankLibrary(entries, text, inventory);
  return best && best.score >= threshold && !best.unresolved.length ? best : null;
}
