/**
 * Plan text and conditions as TypeScript expressions. Placeholders become interpolations
 * (inside `sh` they are shell-quoted by the SDK), literal text is escaped for template
 * literals, strings are JSON-quoted: plan text can never become code.
 */
import type { Condition, Param, Until } from "../plan/schema";

export type CodegenProblem = { stepId: string | null; message: string };

/** Where a step's text is evaluated: with a `host` variable (per host) or without. */
export type TextScope = {
  stepId: string;
  perHost: boolean;
  /** Hosts of the step being generated (empty when it runs without a host). */
  hosts: readonly string[];
  params: ReadonlyMap<string, Param>;
  /** Result variable of each dependency, by step id. */
  results: ReadonlyMap<string, string>;
  /** Resolved hosts of every step, by id (absent: runs without a host). */
  stepHosts: Readonly<Record<string, readonly string[] | undefined>>;
  problems: CodegenProblem[];
  /** SDK names the generated code uses. */
  imports: Set<string>;
};

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

export function literal(value: string | number | boolean | null): string {
  return JSON.stringify(value);
}

/** Text that reads the same inside a template literal (cooked, as `sh` reads it). */
export function templateText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${").replace(/\r/g, "\\r");
}

/**
 * `{{steps.ID.stdout}}` read on this host, or on the one host (or no host) the referenced
 * step ran on. Anything else would be a guess, so it is a problem to fix in the plan.
 */
function stepField(ref: string, field: string, scope: TextScope): string | null {
  const variable = scope.results.get(ref);
  if (!variable) {
    scope.problems.push({
      stepId: scope.stepId,
      message: `{{steps.${ref}.${field}}} reads a step this one does not depend on`,
    });
    return null;
  }
  const refHosts = scope.stepHosts[ref] ?? [];
  const sameHosts = scope.perHost && scope.hosts.every((h) => refHosts.includes(h));
  if (refHosts.length > 1 && !sameHosts) {
    scope.problems.push({
      stepId: scope.stepId,
      message: `{{steps.${ref}.${field}}} is ambiguous: "${ref}" ran on ${refHosts.length} hosts and this step ${
        scope.perHost ? "runs on hosts it did not run on" : "runs without a host"
      }`,
    });
    return null;
  }
  scope.imports.add("resultOn");
  const read = `resultOn(${variable}, ${scope.perHost ? "host" : "null"})`;
  // No exit code (the step did not run there, or was killed): an empty value, never "null".
  return field === "stdout" ? `${read}.stdout.trim()` : `(${read}.exitCode ?? "")`;
}

function placeholderExpression(ref: string, scope: TextScope, inShell: boolean): string | null {
  const [root, name, field] = ref.split(".");
  if (root === "host" && name === undefined) {
    if (scope.perHost) return "host";
    scope.problems.push({
      stepId: scope.stepId,
      message: "{{host}} is used in a step that runs without a host",
    });
    return null;
  }
  if (root === "params" && name && field === undefined) {
    const param = scope.params.get(name);
    if (!param) {
      scope.problems.push({ stepId: scope.stepId, message: `unknown parameter in {{${ref}}}` });
      return null;
    }
    // sh quotes each element of a list as its own word; plain text lists them readably.
    return param.type === "hosts" && !inShell ? `params.${name}.join(", ")` : `params.${name}`;
  }
  if (root === "steps" && name && (field === "stdout" || field === "exitCode"))
    return stepField(name, field, scope);
  scope.problems.push({ stepId: scope.stepId, message: `unknown placeholder {{${ref}}}` });
  return null;
}

/** Plan text with placeholders as a template literal body, or null when there are none. */
function interpolated(text: string, scope: TextScope, inShell: boolean): string | null {
  let out = "";
  let last = 0;
  let any = false;
  for (const m of text.matchAll(PLACEHOLDER)) {
    out += templateText(text.slice(last, m.index));
    out += `\${${placeholderExpression(m[1] ?? "", scope, inShell) ?? "undefined"}}`;
    last = (m.index ?? 0) + m[0].length;
    any = true;
  }
  return any ? out + templateText(text.slice(last)) : null;
}

/** A command: always an `sh` template, so interpolated values are quoted. */
export function shellCommand(command: string, scope: TextScope): string {
  return `sh\`${interpolated(command, scope, true) ?? templateText(command)}\``;
}

/** A PowerShell script: always a `ps` template, so interpolated values are quoted for PowerShell. */
export function powershellScript(script: string, scope: TextScope): string {
  return `ps\`${interpolated(script, scope, false) ?? templateText(script)}\``;
}

/** A URL: a `uri` template when it has placeholders (their values are percent-encoded), else a string. */
export function url(text: string, scope: TextScope): string {
  const body = interpolated(text, scope, false);
  return body === null ? literal(text) : `uri\`${body}\``;
}

/** A message: a string literal, or a template literal when it has placeholders. */
export function message(text: string, scope: TextScope): string {
  const body = interpolated(text, scope, false);
  return body === null ? literal(text) : `\`${body}\``;
}

const STATUSES = ["succeeded", "failed", "skipped", "timed_out", "cancelled"];

/** `holds(subject, field, op, value)`, after checking the comparison makes sense. */
export function conditionCall(
  subject: string,
  c: Pick<Condition | Until, "field" | "op" | "value">,
  stepId: string,
  problems: CodegenProblem[],
): string {
  const numeric =
    c.op === "gt" || c.op === "lt" || (c.field === "exitCode" && (c.op === "eq" || c.op === "ne"));
  if (c.field === "status" && (c.op === "gt" || c.op === "lt"))
    problems.push({ stepId, message: `a status cannot be compared with ${c.op}` });
  else if (c.field === "status" && (c.op === "eq" || c.op === "ne") && !STATUSES.includes(String(c.value)))
    problems.push({ stepId, message: `status is one of ${STATUSES.join(", ")}, not "${c.value}"` });
  else if (numeric && (String(c.value).trim() === "" || Number.isNaN(Number(c.value))))
    problems.push({ stepId, message: `${c.field} ${c.op} needs a number, not "${c.value}"` });
  return `holds(${subject}, ${literal(c.field)}, ${literal(c.op)}, ${literal(c.value)})`;
}

/** The condition in words, for comments and skip reasons. */
export function describeCondition(c: Pick<Condition, "field" | "op" | "value"> & { step?: string }): string {
  const subject = c.step ? `${c.step}.${c.field}` : c.field;
  return `${subject} ${c.op} ${literal(c.value)}`;
}
