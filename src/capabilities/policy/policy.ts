import { z } from "zod";
import { classifyPowerShell } from "./powershell";
import { type SimpleCommand, splitCommands, writesFile } from "./shell-words";
import {
  DENY_RULES,
  type DenyRule,
  INTERPRETERS,
  READ_ONLY_PROGRAMS,
  READ_ONLY_SUBCOMMANDS,
  WRAPPERS,
  WRITING_ARGS,
} from "./shell-rules";

/**
 * Command policy: is a command read-only, mutating, or denied outright?
 *
 * Shell commands are tokenised into simple commands and each is judged by its program and
 * arguments, never by a regex over the raw string: `echo "rm -rf /"` and `man shutdown` are
 * reads, `sudo rm -rf /` is not. Text a command runs as another command (`sh -c`, `eval`,
 * `$(...)`, `su -c`) is classified too. Anything not recognised as a read is mutating, so
 * unknown commands always need a reviewer. An admin policy file extends the rules.
 */

export type CommandClass = "read_only" | "mutating" | "denied";
export type CommandVerdict = { class: CommandClass; reason: string };

/** What an admin may add, as read from COMMAND_POLICY_FILE (see README "Command policy"). */
export const PolicySpecSchema = z.strictObject({
  /** Extra programs that only read. */
  readOnly: z.array(z.string().min(1)).default([]),
  /** Extra read-only sub-commands: `{ mytool: [status, show] }`. */
  readOnlySubcommands: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** Built-in read-only programs to treat as mutating here (e.g. `curl` on a site that forbids it). */
  mutating: z.array(z.string().min(1)).default([]),
  /** Extra deny rules: a program, optionally with arguments that must all be present. */
  deny: z
    .array(
      z.strictObject({
        program: z.string().min(1),
        args: z.array(z.string()).default([]),
        reason: z.string().min(1).default("denied by the site policy"),
      }),
    )
    .default([]),
  /** Built-in deny rule ids the admin allows (e.g. `power` to let flows reboot); allowed = mutating. */
  allow: z.array(z.string().min(1)).default([]),
  /** Exact commands (or PowerShell scripts) allowed despite a deny rule; still mutating. */
  allowCommands: z.array(z.string().min(1)).default([]),
});
export type PolicySpec = z.input<typeof PolicySpecSchema>;

export type CommandPolicy = {
  classify(command: string): CommandVerdict;
  classifyPowerShell(script: string): CommandVerdict;
};

export function createCommandPolicy(spec: PolicySpec = {}): CommandPolicy {
  const s = PolicySpecSchema.parse(spec);
  const readOnly = new Set([...READ_ONLY_PROGRAMS, ...s.readOnly]);
  for (const p of s.mutating) readOnly.delete(p);
  const subcommands = new Map<string, Set<string>>();
  for (const [k, v] of Object.entries({ ...READ_ONLY_SUBCOMMANDS }))
    subcommands.set(k, new Set([...v, ...(s.readOnlySubcommands[k] ?? [])]));
  for (const [k, v] of Object.entries(s.readOnlySubcommands))
    if (!subcommands.has(k)) subcommands.set(k, new Set(v));
  const allowed = new Set(s.allow);
  const rules: DenyRule[] = [
    ...DENY_RULES.filter((r) => !allowed.has(r.id)),
    ...s.deny.map((d) => ({
      id: `site:${d.program}`,
      test: (p: string, a: string[]) => p === d.program && d.args.every((x) => a.includes(x)),
      reason: d.reason,
    })),
  ];
  const judge = new ShellJudge(readOnly, subcommands, rules, allowed);
  const allowExact = new Set(s.allowCommands.map((c) => c.trim()));
  const softened = (v: CommandVerdict, text: string): CommandVerdict =>
    v.class === "denied" && allowExact.has(text.trim())
      ? { class: "mutating", reason: `allowed by the admin policy despite: ${v.reason}` }
      : v;
  return {
    classify: (command) => softened(judge.classify(command, 0), command),
    classifyPowerShell: (script) =>
      softened(
        classifyPowerShell(script, (c) => judge.classify(c, 0), allowed),
        script,
      ),
  };
}

let builtIn: CommandPolicy | undefined;

/** Classifies with the built-in rules only. */
export function classifyCommand(command: string): CommandVerdict {
  builtIn ??= createCommandPolicy();
  return builtIn.classify(command);
}

const FORK_BOMB = /(\w+|:)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}\s*;?\s*\1/;
/** Programs whose output, run as code, is a payload nobody reviewed: a decoder or a download. */
const PAYLOAD_SOURCES = /\b(base64|base32|xxd|openssl|curl|wget|gunzip|zcat|uudecode|printf)\b/;
const MAX_DEPTH = 4;

class ShellJudge {
  constructor(
    private readonly readOnly: Set<string>,
    private readonly subcommands: Map<string, Set<string>>,
    private readonly rules: DenyRule[],
    private readonly allowed: Set<string>,
  ) {}

  classify(command: string, depth: number): CommandVerdict {
    if (depth > MAX_DEPTH) return { class: "mutating", reason: "changes the machine: deeply nested command" };
    if (!this.allowed.has("fork-bomb") && FORK_BOMB.test(command))
      return { class: "denied", reason: "fork bomb" };
    const parts = splitCommands(command);
    if (!parts.length) return { class: "denied", reason: "empty command" };
    let mutating: string | null = null;
    for (const sub of substitutions(command)) {
      const v = this.classify(sub, depth + 1);
      if (v.class === "denied") return v;
      // Its output becomes words of the command, which a reviewer has to see: never read-only.
      mutating ??= "command substitution";
    }
    for (const part of parts) {
      const v = this.part(part, depth);
      if (v.class === "denied") return v;
      if (v.class === "mutating") mutating ??= v.reason;
    }
    return mutating
      ? { class: "mutating", reason: `changes the machine: ${mutating}` }
      : { class: "read_only", reason: "only reads" };
  }

  /** One simple command: denied, mutating (with what it changes), or read-only. */
  private part({ words, piped, redirects }: SimpleCommand, depth: number): CommandVerdict {
    const shown = words.join(" ");
    const [prog = "", ...args] = unwrap(words);
    const name = prog.split("/").pop() ?? prog;
    for (const rule of this.rules)
      if (rule.test(name, args)) return { class: "denied", reason: `${rule.reason}: ${shown}` };
    for (const r of redirects)
      if (r.op.includes(">") && /^\/dev\/(sd|hd|vd|xvd|nvme|mmcblk|disk|mapper|md)/.test(r.target))
        return { class: "denied", reason: `writes raw data to a device: ${shown} > ${r.target}` };
    const generated = /^(\$\(|`)/.test(prog);
    if (generated && PAYLOAD_SOURCES.test(prog) && !this.allowed.has("payload"))
      return { class: "denied", reason: `runs decoded or downloaded text as a command: ${shown}` };
    if (INTERPRETERS.includes(name)) {
      const v = this.interpreter(name, args, piped, depth);
      if (v) return v;
    }
    if ((name === "eval" || name === "source" || name === ".") && !this.allowed.has("payload")) {
      const text = args.join(" ");
      if (/<\(|\$\(|`/.test(text) && PAYLOAD_SOURCES.test(text))
        return { class: "denied", reason: `runs decoded or downloaded text as a command: ${shown}` };
      if (name === "eval") return this.classify(text, depth + 1);
    }
    if (redirects.some(writesFile)) return { class: "mutating", reason: `writes a file: ${shown}` };
    if (generated) return { class: "mutating", reason: `runs a generated command: ${shown}` };
    if (!this.isReadOnly(name, args))
      return { class: "mutating", reason: `${name} ${args.slice(0, 2).join(" ")}`.trim() };
    return { class: "read_only", reason: "only reads" };
  }

  private interpreter(name: string, args: string[], piped: boolean, depth: number): CommandVerdict | null {
    const payload = !this.allowed.has("payload");
    if (piped && payload && !args.some((a) => a === "-c" || /^-(Command|EncodedCommand)$/i.test(a)))
      return { class: "denied", reason: `pipes downloaded or generated text into an interpreter (${name})` };
    if (payload && args.some((a) => a.startsWith("<(")))
      return { class: "denied", reason: `runs downloaded or generated text in an interpreter (${name})` };
    if (payload && args.some((a) => /^-(e|ec|enc|encodedcommand)$/i.test(a)) && /pwsh|powershell/.test(name))
      return { class: "denied", reason: `runs an encoded PowerShell payload (${name})` };
    const c = args.indexOf("-c");
    if (c >= 0 && ["sh", "bash", "zsh", "dash", "ksh"].includes(name))
      return this.classify(args[c + 1] ?? "", depth + 1);
    return null;
  }

  private isReadOnly(prog: string, args: string[]): boolean {
    const sub = this.subcommands.get(prog);
    if (sub) return sub.has(args.find((a) => !a.startsWith("--") || sub.has(a)) ?? "");
    if (!this.readOnly.has(prog)) return false;
    if (prog === "tee") return args.every((a) => a.startsWith("-") || a === "/dev/null");
    const writing = WRITING_ARGS[prog];
    return !(writing && args.some((a) => writing.test(a)));
  }
}

/** Strips wrappers (`sudo -u x`, `timeout 5`, `env A=b`) to the program they run. */
function unwrap(words: string[]): string[] {
  let rest = words;
  while (rest.length && WRAPPERS.includes(rest[0]!)) {
    const wrapper = rest[0]!;
    rest = rest.slice(1);
    if (wrapper === "su" || wrapper === "runuser") {
      const c = rest.indexOf("-c");
      return c >= 0 ? ["sh", "-c", rest[c + 1] ?? ""] : ["su"];
    }
    while (
      rest.length &&
      (rest[0]!.startsWith("-") || /^\d+(\.\d+)?[smhd]?$/.test(rest[0]!) || /^[A-Za-z_]\w*=/.test(rest[0]!))
    )
      rest = rest.slice(takesValue(wrapper, rest[0]!) ? 2 : 1);
  }
  return rest.length ? rest : words;
}

function takesValue(wrapper: string, option: string): boolean {
  if (wrapper === "timeout") return option === "-s" || option === "-k";
  return ["-u", "-g", "-C", "-p", "-U"].includes(option);
}

/** The bodies of `$(...)` and backquote substitutions, innermost last. */
function substitutions(command: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    if (command[i] === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (command[i] === "$" && command[i + 1] === "(" && command[i + 2] !== "(") {
      let level = 0;
      for (let j = i + 1; j < command.length; j++) {
        if (command[j] === "(") level++;
        else if (command[j] === ")" && --level === 0) {
          out.push(command.slice(i + 2, j));
          break;
        }
      }
    } else if (command[i] === "`") {
      const end = command.indexOf("`", i + 1);
      if (end < 0) break;
      out.push(command.slice(i + 1, end));
      i = end;
    }
  }
  return out;
}
