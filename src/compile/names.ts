/**
 * JavaScript names for plan steps: `check_nginx` → `checkNginx` (its promise) and
 * `checkNginxResults` (its outcomes). Names never collide with each other, with SDK
 * imports, with reserved words or with the locals generated code uses.
 */
import { SDK_VALUE_EXPORTS } from "../../sandbox/protocol";

const RESERVED = new Set([
  ...SDK_VALUE_EXPORTS,
  // ECMAScript reserved and contextual words a step id could spell
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "instanceof",
  "interface",
  "let",
  "new",
  "null",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "with",
  "yield",
  "arguments",
  "eval",
  "undefined",
  "async",
  "of",
  "get",
  "set",
  // SDK exports the protocol list may not name yet, and the result helpers of templates/results/
  "powershell",
  "ps",
  "http",
  "uri",
  "net",
  "notify",
  "httpResult",
  "netResult",
  "dnsResult",
  // globals and locals the generated code relies on
  "Promise",
  "params",
  "host",
  "hosts",
  "whenHolds",
  "r",
]);

function camel(id: string): string {
  return id.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/_+$/, "");
}

/** Assigns a unique identifier to every step id, in the order given (stable output). */
export function stepNames(ids: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const id of ids) {
    const base = camel(id);
    let name = RESERVED.has(base) || RESERVED.has(`${base}Results`) ? `${base}Step` : base;
    for (let n = 2; taken.has(name) || taken.has(`${name}Results`); n++) name = `${base}Step${n}`;
    taken.add(name);
    taken.add(`${name}Results`);
    names.set(id, name);
  }
  return names;
}
