/**
 * Command policy: is a shell command read-only, mutating, or denied outright?
 *
 * Commands are split into simple commands at `;`, `&&`, `||`, `|` and newlines (outside
 * quotes) and each is judged by its program and arguments, not by regexes over the raw
 * string: `echo "rm -rf /"` is a harmless read, `sudo rm -rf /` is not. Anything the rules do
 * not recognise as a read counts as mutating, so unknown commands always need a reviewer.
 */

export type CommandClass = "read_only" | "mutating" | "denied";
export type CommandVerdict = { class: CommandClass; reason: string };

/** Programs that only read, whatever their arguments (unless an argument says otherwise below). */
const READ_ONLY_PROGRAMS = new Set([
  "cat",
  "head",
  "tail",
  "grep",
  "egrep",
  "fgrep",
  "zgrep",
  "wc",
  "ls",
  "stat",
  "df",
  "du",
  "free",
  "uptime",
  "uname",
  "hostname",
  "whoami",
  "id",
  "date",
  "ps",
  "pgrep",
  "top",
  "ss",
  "netstat",
  "ip",
  "ping",
  "dig",
  "nslookup",
  "host",
  "getent",
  "lsblk",
  "lscpu",
  "lsof",
  "dmesg",
  "journalctl",
  "echo",
  "printf",
  "test",
  "true",
  "false",
  "which",
  "env",
  "printenv",
  "nproc",
  "vmstat",
  "iostat",
  "mount",
  "findmnt",
  "cut",
  "sort",
  "uniq",
  "awk",
  "tr",
  "md5sum",
  "sha256sum",
  "openssl",
  "curl",
  "wget",
  "dpkg-query",
  "nginx",
  "apache2ctl",
  "sleep",
  "exit",
  "[",
  "timeout",
  "systemd-analyze",
  "lsb_release",
  "rpm",
]);

/** Sub-commands of service managers and package tools that only read. */
const READ_ONLY_SUBCOMMANDS: Record<string, Set<string>> = {
  systemctl: new Set([
    "is-active",
    "is-enabled",
    "is-failed",
    "status",
    "show",
    "list-units",
    "list-unit-files",
    "cat",
  ]),
  service: new Set(["status"]),
  docker: new Set(["ps", "inspect", "logs", "images", "version", "info", "stats"]),
  kubectl: new Set(["get", "describe", "logs", "version", "top"]),
  apt: new Set(["list", "show", "policy"]),
  "apt-cache": new Set(["policy", "show", "search"]),
  dpkg: new Set(["-l", "-s", "--list", "--status"]),
  git: new Set(["status", "log", "diff", "show"]),
};

/** Arguments that turn a reading program into a writing one. */
const WRITING_ARGS: Record<string, RegExp> = {
  curl: /^(-o|--output|-O|--remote-name|-T|--upload-file|-X|--request|-d|--data.*)$/,
  wget: /^.*$/, // wget writes a file by default
  ip: /^(add|del|delete|flush|set|change|replace)$/,
  mount: /^-/,
  openssl: /^(-out|genrsa|req)$/,
  rpm: /^(-i|-U|-e|--install|--upgrade|--erase)$/,
  date: /^(-s|--set)$/,
  hostname: /^[^-]/,
  sort: /^(-o|--output)$/,
  nginx: /^-s$/,
};

type DenyRule = { test: (prog: string, args: string[]) => boolean; reason: string };
const DENY_RULES: DenyRule[] = [
  {
    test: (p, a) =>
      p === "rm" && a.some((x) => /^-[a-zA-Z]*[rR]/.test(x) || x === "--recursive") && a.some(isRootish),
    reason: "recursive delete of a root or system path",
  },
  {
    test: (p) => /^mkfs(\..*)?$/.test(p) || p === "mke2fs" || p === "wipefs",
    reason: "formats a file system",
  },
  {
    test: (p, a) => p === "dd" && a.some((x) => /^of=\/dev\//.test(x)),
    reason: "writes raw data to a device",
  },
  {
    test: (p) => ["shutdown", "poweroff", "halt", "reboot", "init"].includes(p),
    reason: "stops or restarts the machine",
  },
  {
    test: (p, a) =>
      p === "systemctl" &&
      ["poweroff", "halt", "reboot", "kexec", "emergency", "rescue"].includes(a[0] ?? ""),
    reason: "stops or restarts the machine",
  },
  {
    test: (p, a) => p === "chmod" && a.includes("-R") && a.some(isRootish),
    reason: "recursive permission change on a system path",
  },
  {
    test: (p, a) => p === "chown" && a.includes("-R") && a.some(isRootish),
    reason: "recursive ownership change on a system path",
  },
  {
    test: (p, a) => p === "iptables" && a.some((x) => x === "-F" || x === "--flush"),
    reason: "flushes the firewall",
  },
  { test: (p, a) => p === "ip" && a.includes("flush"), reason: "flushes network configuration" },
];

function isRootish(path: string): boolean {
  return /^(\/|\/\*|~|~\/|\/(bin|boot|dev|etc|lib|lib64|opt|proc|root|sbin|srv|sys|usr|var|home)\/?\*?)$/.test(
    path,
  );
}

/** Splits into simple commands, each a list of words, honouring quotes and escapes. */
export function splitCommands(command: string): { words: string[]; piped: boolean }[] {
  const commands: { words: string[]; piped: boolean }[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  let pipedIn = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = (nextPiped: boolean) => {
    endWord();
    if (words.length) commands.push({ words, piped: pipedIn });
    words = [];
    pipedIn = nextPiped;
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === " " || c === "\t") endWord();
    else if (c === "&" && (/[<>]$/.test(word) || command[i + 1] === ">")) {
      // `2>&1` and `&>` are redirections, not the background operator.
      word += c;
      inWord = true;
    } else if (c === ";" || c === "\n" || c === "&") {
      if (command[i + 1] === "&") i++;
      endCommand(false);
    } else if (c === "|") {
      const or = command[i + 1] === "|";
      if (or) i++;
      endCommand(!or);
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand(false);
  return commands;
}

/** Programs that run their arguments as another command. */
const WRAPPERS = new Set(["sudo", "nohup", "nice", "ionice", "timeout", "env", "command", "exec", "xargs"]);

function unwrap(words: string[]): string[] {
  let rest = words;
  while (rest.length && WRAPPERS.has(rest[0]!)) {
    rest = rest.slice(1);
    // Skip wrapper options and their values (sudo -u user, timeout 5, env VAR=x).
    while (
      rest.length &&
      (rest[0]!.startsWith("-") || /^\d+[smhd]?$/.test(rest[0]!) || /^[A-Za-z_]\w*=/.test(rest[0]!))
    )
      rest = rest.slice(rest[0] === "-u" || rest[0] === "-g" ? 2 : 1);
  }
  return rest;
}

export function classifyCommand(command: string): CommandVerdict {
  if (/:\(\)\s*\{.*\|.*&\s*\}\s*;?\s*:/.test(command)) return { class: "denied", reason: "fork bomb" };
  const parts = splitCommands(command);
  if (!parts.length) return { class: "denied", reason: "empty command" };
  let mutating: string | null = null;
  for (const { words, piped } of parts) {
    const unwrapped = unwrap(words);
    const [prog = "", ...args] = unwrapped.length ? unwrapped : words;
    const name = prog.split("/").pop() ?? prog;
    for (const rule of DENY_RULES)
      if (rule.test(name, args)) return { class: "denied", reason: `${rule.reason}: ${words.join(" ")}` };
    if (
      piped &&
      ["sh", "bash", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node"].includes(name)
    )
      return { class: "denied", reason: `pipes downloaded or generated text into an interpreter (${name})` };
    if (words.some((w) => /(^|[^<])>{1,2}/.test(w) && !/^[0-9]?>&[0-9]$|^[0-9&]?>\/dev\/null$/.test(w)))
      mutating ??= `redirects output to a file: ${words.join(" ")}`;
    if (!isReadOnly(name, args)) mutating ??= `${name} ${args.slice(0, 2).join(" ")}`.trim();
  }
  if (/\$\(|`/.test(command)) mutating ??= "command substitution";
  return mutating
    ? { class: "mutating", reason: `changes the machine: ${mutating}` }
    : { class: "read_only", reason: "only reads" };
}

function isReadOnly(prog: string, args: string[]): boolean {
  const sub = READ_ONLY_SUBCOMMANDS[prog];
  if (sub) return sub.has(args.find((a) => !a.startsWith("--") || sub.has(a)) ?? "");
  if (!READ_ONLY_PROGRAMS.has(prog)) return false;
  const writing = WRITING_ARGS[prog];
  return !(writing && args.some((a) => writing.test(a)));
}
