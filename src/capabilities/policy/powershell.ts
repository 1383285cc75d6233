import type { CommandVerdict } from "./policy";

/**
 * PowerShell scripts, classified by the cmdlets they call. Verbs say what a cmdlet does
 * (Get-, Test-, Measure- read; Set-, Remove-, Restart-, Stop- ... change), so a script is
 * read-only only when every cmdlet, alias and native program in it reads. Strings and
 * comments are blanked first: `Write-Output "Remove-Item C:\"` is a read.
 */

const READ_VERBS = new Set([
  "get",
  "test",
  "measure",
  "select",
  "where",
  "sort",
  "format",
  "convertto",
  "convertfrom",
  "resolve",
  "find",
  "search",
  "compare",
  "group",
  "read",
  "show",
  "write",
  "join",
  "split",
  "foreach",
  "tee",
  "out",
  "trace",
  "wait",
  "debug",
  "use",
  "import",
  "confirm",
]);
/** Cmdlets of a read verb that write anyway. */
const WRITING_CMDLETS = new Set(["out-file", "tee-object", "write-eventlog", "import-module", "import-csv"]);
/** Cmdlets that read whatever their verb. */
const READ_CMDLETS = new Set([
  "import-csv",
  "import-clixml",
  "start-sleep",
  "out-string",
  "out-null",
  "out-host",
]);
const ALIASES: Record<string, string> = {
  gci: "get-childitem",
  ls: "get-childitem",
  dir: "get-childitem",
  gc: "get-content",
  cat: "get-content",
  type: "get-content",
  gps: "get-process",
  ps: "get-process",
  gsv: "get-service",
  gwmi: "get-wmiobject",
  gcim: "get-ciminstance",
  select: "select-object",
  where: "where-object",
  "?": "where-object",
  "%": "foreach-object",
  foreach: "foreach-object",
  sort: "sort-object",
  ft: "format-table",
  fl: "format-list",
  echo: "write-output",
  measure: "measure-object",
  gi: "get-item",
  gp: "get-itemproperty",
  rm: "remove-item",
  del: "remove-item",
  erase: "remove-item",
  rd: "remove-item",
  rmdir: "remove-item",
  ri: "remove-item",
  mv: "move-item",
  move: "move-item",
  cp: "copy-item",
  copy: "copy-item",
  ni: "new-item",
  mkdir: "new-item",
  sc: "set-content",
  ac: "add-content",
  kill: "stop-process",
  spps: "stop-process",
  sasv: "start-service",
  spsv: "stop-service",
  iex: "invoke-expression",
  iwr: "invoke-webrequest",
  irm: "invoke-restmethod",
  curl: "invoke-webrequest",
  wget: "invoke-webrequest",
  icm: "invoke-command",
  saps: "start-process",
  start: "start-process",
  sleep: "start-sleep",
};
/** Native programs common in Windows checks that only read. */
const READ_NATIVE = new Set([
  "ipconfig",
  "hostname",
  "whoami",
  "systeminfo",
  "tasklist",
  "ping",
  "nslookup",
  "netstat",
  "tracert",
  "route",
  "arp",
  "ver",
  "query",
  "quser",
  "getmac",
  "driverquery",
  "where.exe",
]);
const KEYWORDS = new Set([
  "if",
  "else",
  "elseif",
  "foreach",
  "for",
  "while",
  "do",
  "until",
  "switch",
  "function",
  "param",
  "return",
  "try",
  "catch",
  "finally",
  "throw",
  "break",
  "continue",
  "in",
  "begin",
  "process",
  "end",
  "filter",
  "trap",
  "exit",
]);
/** .NET methods that only read; any other method call may change something. */
const READ_METHODS =
  /^(ToString|Trim|TrimEnd|TrimStart|Split|ToLower|ToUpper|Contains|StartsWith|EndsWith|Replace|Substring|IndexOf|GetType|Equals|Count|Format|Join|Round|Parse|TryParse|ToInt32|ToDouble|GetHostAddresses|GetHostEntry|GetEnvironmentVariable|Exists|ReadAllText|ReadAllLines|GetFiles|GetDirectories|Now|UtcNow|Add|AddDays|AddHours|AddMinutes|AddSeconds|Subtract|Where|ForEach|PadLeft|PadRight|ToArray|Keys|Values|ContainsKey|GetValue|ToUniversalTime|ToLocalTime|ToFileTime|Ceiling|Floor|Max|Min|Abs|Sum|Sqrt|Pow|IsNullOrEmpty|IsNullOrWhiteSpace|Compare|CompareTo|HasExited|WaitForExit)$/;

/**
 * A rule with `raw` looks inside string literals too (a path to delete is usually quoted), once
 * `raw` has matched the code outside strings (so the command itself is not just quoted text).
 */
const DENY: { test: RegExp; reason: string; id: string; raw?: RegExp }[] = [
  {
    id: "mkfs",
    test: /\b(format-volume|clear-disk|initialize-disk|remove-partition|set-disk)\b/,
    reason: "formats or wipes a disk",
  },
  { id: "power", test: /\b(stop-computer|restart-computer)\b/, reason: "stops or restarts the machine" },
  {
    id: "payload",
    test: /\b(invoke-expression|iex)\b[\s\S]*\b(downloadstring|invoke-webrequest|invoke-restmethod|iwr|irm|frombase64string)\b|\b(downloadstring|invoke-webrequest|invoke-restmethod|iwr|irm|frombase64string)\b[\s\S]*\b(invoke-expression|iex)\b/,
    reason: "runs downloaded or decoded text as code",
  },
  {
    id: "payload",
    test: /-(e|ec|enc|encodedcommand)\s+[a-z0-9+/=]{16,}/,
    reason: "runs an encoded PowerShell payload",
  },
  {
    id: "rm-root",
    test: /\b(remove-item|rm|del|rd|rmdir|ri)\b(?=[^\n;|]*-r)[^\n;|]*\s[a-z]:\\(windows|program files|users|windows\\system32)?\\?\*?(\s|$)/,
    reason: "recursive delete of a drive or system folder",
    raw: /\b(remove-item|rm|del|rd|rmdir|ri)\b[^\n;|]*-r/,
  },
  {
    id: "firewall-flush",
    test: /\b(set-netfirewallprofile[^\n;|]*-enabled\s+(\$?false|0)|remove-netfirewallrule|disable-netadapter)\b/,
    reason: "disables the firewall or a network adapter",
  },
];

export function classifyPowerShell(
  script: string,
  classifyNative: (command: string) => CommandVerdict,
  allowed: ReadonlySet<string>,
): CommandVerdict {
  const code = blankStrings(script).toLowerCase();
  const raw = script.toLowerCase().replace(/["']/g, " ");
  for (const d of DENY)
    if (!allowed.has(d.id) && (d.raw ? d.raw.test(code) && d.test.test(raw) : d.test.test(code)))
      return { class: "denied", reason: d.reason };
  const mutating = firstMutation(code, classifyNative);
  return mutating
    ? { class: "mutating", reason: `changes the machine: ${mutating}` }
    : { class: "read_only", reason: "only reads" };
}

function firstMutation(code: string, classifyNative: (c: string) => CommandVerdict): string | null {
  if (/(^|[^2&*0-9])>>?\s*(?!\$null)[^\s&]/.test(code.replace(/-(gt|ge|lt|le)\b/g, "")))
    return "redirects output to a file";
  for (const m of code.matchAll(/\.([a-z_]\w*)\s*\(/gi)) {
    const method = m[1]!;
    if (!new RegExp(READ_METHODS.source, "i").test(method)) return `calls .${method}()`;
  }
  // Each statement's first word is what it runs: split at ; | newlines { } ( and keywords.
  for (const statement of code.split(/[;|\n{}()]|&&|\|\|/)) {
    const words = statement.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && KEYWORDS.has(words[i]!)) i++;
    const first = words[i];
    if (!first || /^[$@\-[\d'"#,=+<>!.]/.test(first) || first === "&") continue;
    const cmd = ALIASES[first] ?? first.replace(/\.exe$/, "");
    if (READ_CMDLETS.has(cmd)) continue;
    const verb = /^([a-z]+)-[a-z0-9]+$/.exec(cmd)?.[1];
    if (verb) {
      if (WRITING_CMDLETS.has(cmd) || !READ_VERBS.has(verb)) return cmd;
      continue;
    }
    if (READ_NATIVE.has(cmd)) continue;
    const v = classifyNative(words.slice(i).join(" "));
    if (v.class !== "read_only") return cmd;
  }
  return null;
}

/** Replaces the contents of string literals, here-strings and comments with spaces. */
function blankStrings(script: string): string {
  return script
    .replace(/@'[\s\S]*?'@/g, "''")
    .replace(/@"[\s\S]*?"@/g, '""')
    .replace(/<#[\s\S]*?#>/g, " ")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"`]|`.)*"/g, '""')
    .replace(/(^|\s)#[^\n]*/g, "$1");
}
