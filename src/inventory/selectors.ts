import { type Host, UnknownHostError } from "./types";

/**
 * Selector expansion: `web1`, `group:web`, `tag:prod`, `web[1-5]` / `web[01-10]`, `*` / `all`.
 * The same grammar the planner checks plans against (src/plan/hosts.ts); here it is resolved
 * for real. A range names specific machines, so every one of them must exist.
 */

const RANGE = /^(.*)\[(\d{1,4})-(\d{1,4})\](.*)$/;
/** Larger ranges are almost certainly typos (`web[1-1000]`), and would build huge lists. */
const MAX_RANGE = 1000;

/** What selectors match on: the planner's view of the inventory has exactly these fields too. */
type Selectable = Pick<Host, "name" | "groups" | "tags">;

export function resolveSelectors(hosts: readonly Selectable[], selectors: readonly string[]): string[] {
  const wanted = new Set<string>();
  for (const raw of selectors) for (const name of resolveOne(hosts, raw)) wanted.add(name);
  // Inventory order, not selector order: runs fan out the same way whoever wrote the selectors.
  return hosts.filter((h) => wanted.has(h.name)).map((h) => h.name);
}

function resolveOne(hosts: readonly Selectable[], raw: string): string[] {
  const selector = raw.trim();
  const unknown = () =>
    new UnknownHostError(
      raw,
      hosts.map((h) => h.name),
    );
  if (selector === "*" || selector === "all") return hosts.map((h) => h.name);
  if (selector.startsWith("group:"))
    return nonEmpty(
      matching(hosts, (h) => h.groups.includes(selector.slice(6))),
      unknown,
    );
  if (selector.startsWith("tag:"))
    return nonEmpty(
      matching(hosts, (h) => h.tags.includes(selector.slice(4))),
      unknown,
    );
  const names = expandRange(selector) ?? [selector];
  const known = new Set(hosts.map((h) => h.name));
  if (names.length === 0 || !names.every((n) => known.has(n))) throw unknown();
  return names;
}

function matching(hosts: readonly Selectable[], test: (h: Selectable) => boolean): string[] {
  return hosts.filter(test).map((h) => h.name);
}

function nonEmpty(names: string[], error: () => Error): string[] {
  if (names.length === 0) throw error();
  return names;
}

/** `web[1-3]` → web1, web2, web3; `[01-03]` keeps the zero padding. Null when not a range. */
export function expandRange(selector: string): string[] | null {
  const m = RANGE.exec(selector);
  if (!m) return null;
  const [, prefix = "", from = "", to = "", suffix = ""] = m;
  const start = Number(from);
  const end = Number(to);
  if (end < start || end - start >= MAX_RANGE) return [];
  const width = from.length > 1 && from.startsWith("0") ? from.length : 0;
  const names: string[] = [];
  for (let n = start; n <= end; n++) names.push(`${prefix}${String(n).padStart(width, "0")}${suffix}`);
  return names;
}
