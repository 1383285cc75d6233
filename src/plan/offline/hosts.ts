import { expandRange, resolveSelector } from "../hosts";
import type { InventoryView } from "../provider";
import { IntentText } from "./text";

/**
 * Where an intent says to act, as plan selectors. Recognised, against the inventory:
 * - host names: "web1", "web1 and web2", "web1, web2";
 * - ranges: "web[1-3]", "web1..web3", "web1 to web3";
 * - groups: "group:web", "group web", "the web group", "web servers" (also hosts, machines,
 *   nodes), or a bare group name in a host list ("on web");
 * - tags: "tag:prod", "tag prod", "tagged prod", "prod hosts" (when no group has that name);
 * - everything: "all hosts", "every server", "everywhere"; by OS: "all linux hosts", "windows servers".
 * A host-like word in a host list ("on web9", "on db.example.com", "on 10.0.0.5") that the
 * inventory lacks is reported as unknown rather than silently dropped.
 */
export type HostMentions = { selectors: string[]; unknown: string[] };

const NOUN = `(?:servers?|hosts?|machines?|nodes?|boxes|vms?)`;
const NAME = `[A-Za-z0-9][A-Za-z0-9._-]*`;

export function findHosts(text: IntentText, view: InventoryView): HostMentions {
  const found = new Finder(view);
  found.explicitSelectors(text);
  found.ranges(text);
  found.namedGroupsAndTags(text);
  found.everything(text);
  found.hostLists(text);
  // In the order the intent names them, whichever rule found them.
  const inOrder = (xs: Mention[]) => [...new Set([...xs].sort((a, b) => a.at - b.at).map((x) => x.name))];
  return { selectors: inOrder(found.selectors), unknown: inOrder(found.unknown) };
}

type Mention = { at: number; name: string };

class Finder {
  readonly selectors: Mention[] = [];
  readonly unknown: Mention[] = [];
  private readonly hostByName: Map<string, string>;
  private readonly groupByName: Map<string, string>;
  private readonly tagByName: Map<string, string>;

  constructor(private readonly view: InventoryView) {
    const index = (names: string[]) => new Map(names.map((n) => [n.toLowerCase(), n]));
    this.hostByName = index(view.hosts.map((h) => h.name));
    this.groupByName = index(view.groups);
    this.tagByName = index(view.tags);
  }

  /** group:web, tag:prod, "group web", "tag prod", "tagged prod". */
  explicitSelectors(text: IntentText): void {
    const pattern = new RegExp(String.raw`\b(group|tag|tagged)(?::|\s+)(${NAME})`, "i");
    for (const m of text.takeAll(pattern)) {
      const kind = m[1]?.toLowerCase() === "group" ? "group" : "tag";
      const name = trimName(m[2] ?? "");
      const known = (kind === "group" ? this.groupByName : this.tagByName).get(name.toLowerCase());
      if (known) this.selectors.push({ at: m.index, name: `${kind}:${known}` });
      else this.unknown.push({ at: m.index, name: `${kind}:${name}` });
    }
  }

  /** web[1-3], web1..web3, web1..3, web1 to web3, web1 through web3. */
  ranges(text: IntentText): void {
    const bracket = /\b([A-Za-z][A-Za-z0-9._-]*\[\d{1,4}-\d{1,4}\][A-Za-z0-9._-]*)/;
    for (const m of text.takeAll(bracket)) this.range(m[1] ?? "", m.index);
    const spelled =
      /\b([A-Za-z][A-Za-z0-9_-]*?)(\d{1,4})\s*(?:\.\.|\bto\b|\bthrough\b|\bthru\b)\s*(?:\1)?(\d{1,4})\b/i;
    for (const m of text.takeAll(spelled)) {
      const [, prefix = "", from = "", to = ""] = m;
      const base = this.hostByName.get(`${prefix}${from}`.toLowerCase());
      // Keep the inventory's spelling of the prefix ("Web1..3" on an inventory of "web1").
      const realPrefix = base ? base.slice(0, prefix.length) : prefix;
      this.range(
        `${realPrefix}[${from}-${to.padStart(from.startsWith("0") ? from.length : 0, "0")}]`,
        m.index,
      );
    }
  }

  private range(selector: string, at: number): void {
    if (expandRange(selector) && resolveSelector(this.view, selector))
      this.selectors.push({ at, name: selector });
    else this.unknown.push({ at, name: selector });
  }

  /** "web servers", "the web group", "prod hosts": a known group or tag followed by a host noun. */
  namedGroupsAndTags(text: IntentText): void {
    const pattern = new RegExp(String.raw`\b(?:the\s+|all\s+)?(${NAME})\s+(?:group\b|${NOUN}\b)`, "gi");
    for (const m of text.rest.matchAll(pattern)) {
      const selector = this.groupOrTag(trimName(m[1] ?? ""));
      if (selector) {
        this.selectors.push({ at: m.index, name: selector });
        text.blank(m.index, m[0].length);
      }
    }
  }

  /** "all hosts", "every server", "everywhere"; "all linux hosts", "windows servers": by name. */
  everything(text: IntentText): void {
    const os = new RegExp(String.raw`\b(?:(?:all|every)\s+(?:the\s+)?)?(linux|windows)\s+${NOUN}\b`, "i");
    for (const m of text.takeAll(os)) {
      const wanted = m[1]?.toLowerCase();
      const hosts = this.view.hosts.filter((h) => h.os === wanted);
      this.selectors.push(...hosts.map((h) => ({ at: m.index, name: h.name })));
    }
    const all = text.take(new RegExp(String.raw`\b(?:all|every)\s+(?:the\s+)?${NOUN}\b|\beverywhere\b`, "i"));
    if (all) this.selectors.push(...this.view.hosts.map((h) => ({ at: all.index, name: h.name })));
  }

  /**
   * Host names anywhere, and lists after "on", "across", "at": there a bare group or tag name
   * counts, and a host-like word the inventory lacks is unknown.
   */
  hostLists(text: IntentText): void {
    let inList = false;
    for (const m of text.rest.matchAll(/\S+/g)) {
      const word = m[0];
      if (word.includes(IntentText.MARK)) {
        inList = true;
        continue;
      }
      const name = trimName(word);
      const lower = name.toLowerCase();
      const host = this.hostByName.get(lower);
      const selector = host ?? (inList ? this.groupOrTag(name) : undefined);
      if (selector) {
        this.selectors.push({ at: m.index, name: selector });
        text.blank(m.index + word.indexOf(name), name.length);
        inList = true;
      } else if (/^(?:on|across|at|and|&|,|or)$/.test(lower) || (lower === "" && inList)) {
        inList = inList || lower === "on" || lower === "across" || lower === "at";
      } else if (inList && looksLikeHost(name)) {
        this.unknown.push({ at: m.index, name });
        text.blank(m.index + word.indexOf(name), name.length);
      } else inList = false;
    }
  }

  private groupOrTag(name: string): string | undefined {
    const group = this.groupByName.get(name.toLowerCase());
    if (group) return `group:${group}`;
    const tag = this.tagByName.get(name.toLowerCase());
    return tag ? `tag:${tag}` : undefined;
  }
}

/** Words that name a machine rather than a thing: web9, db.example.com, 10.0.0.5. */
export function looksLikeHost(word: string): boolean {
  return (
    /^[A-Za-z][A-Za-z0-9-]*\d[A-Za-z0-9-]*$/.test(word) ||
    /^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$/.test(word) ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(word)
  );
}

/** A word without the punctuation around it: "web2," → web2, "(web1" → web1. */
function trimName(word: string): string {
  return word.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}
