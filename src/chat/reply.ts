import { UnknownHostError } from "../inventory/types";
import { OFFLINE_REFINEMENTS } from "../plan/offline/refine";
import type { InventoryView } from "../plan/provider";
import type { LibraryAnswerView } from "../pipeline";
import type { Plan, Step } from "../plan/schema";
import type { RouteDecision } from "../route";
import type { RunRecord, StepResultRecord } from "../store/types";
import type { z } from "zod";
import type { ChatFlowView } from "./schemas";

/**
 * The assistant's words, composed from structured results only: step ids (lower_snake_case,
 * checked by the Plan schema), action kinds, host names resolved by the inventory, statuses,
 * numbers and API paths. Free text from a plan (titles, names, commands, which an LLM wrote)
 * and messages of errors are never quoted, so an injected instruction cannot make the reply
 * carry a prompt or a secret.
 */

type FlowView = z.infer<typeof ChatFlowView>;

const list = (xs: readonly string[]) =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}`;

/** A host name as the inventory spells it, or a placeholder for anything else. */
const HOSTLIKE = /^[A-Za-z0-9][A-Za-z0-9._:[\]-]{0,63}$/;
const safeName = (s: string) => (HOSTLIKE.test(s) ? s : "(a name that is not a host)");

function stepLine(s: Step, hosts: readonly string[] | undefined): string {
  const where = hosts?.length ? ` on ${list(hosts.map(safeName))}` : "";
  const when = s.when ? ` (only where ${s.when.step} ${s.when.op === "ne" ? "failed" : "matched"})` : "";
  return `${s.id} (${s.action.kind}${where})${when}`;
}

export function version(
  kind: "planned" | "refined" | "engine_changed",
  v: FlowView,
  plan: Plan,
  targets: Record<string, string[]>,
  route: RouteDecision,
  changes: readonly string[],
  fromVersion = v.version - 1,
): string {
  const lead =
    kind === "planned"
      ? `I made a plan of ${plan.steps.length} step${plan.steps.length === 1 ? "" : "s"}`
      : kind === "refined"
        ? `I changed the plan (version ${v.version} of the same flow)`
        : `Version ${v.version} runs the same plan on the ${v.engine} engine`;
  const steps = plan.steps.map((s) => stepLine(s, targets[s.id]));
  const parts = [
    `${lead}: ${steps.join("; ")}.`,
    changes.length ? `Changes from version ${fromVersion}: ${changes.join("; ")}.` : "",
    `It goes to the ${route.engine} engine (complexity ${route.score}, ${route.level}).`,
    v.readOnly ? "It only reads." : "It changes machines.",
    status(v),
  ];
  return parts.filter(Boolean).join(" ");
}

/**
 * Which library flow answered, and with which params. The entry's name and description are
 * free text (a promoted plan's title, which an LLM may have written): only ids, numbers, param
 * names and host-like values are said.
 */
export function libraryReuse(lib: LibraryAnswerView): string {
  const value = (v: unknown): string =>
    Array.isArray(v)
      ? list(v.map((x) => value(x)))
      : typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : typeof v === "string"
          ? safeName(v)
          : "(a value)";
  const params = Object.entries(lib.params)
    .filter(([name]) => /^[a-z][a-z0-9_]{0,40}$/i.test(name))
    .map(([name, v]) => `${name} ${value(v)}`);
  return (
    `This reuses library entry ${lib.entryId} (flow ${lib.flowId} version ${lib.version}, match ${lib.score})` +
    (params.length ? ` with ${list(params)}` : "") +
    ` — no planner, no new code.`
  );
}

export function status(v: FlowView): string {
  const which = `Version ${v.version} of flow ${v.id}`;
  if (v.status === "approved") return `${which} is approved: say "run it" to start it.`;
  if (v.status === "rejected")
    return `${which} was rejected by a reviewer; ask for a change to make a new version.`;
  return (
    `${which} is pending review: nothing runs until a reviewer approves it ` +
    `(POST ${v.approvePath}, or the review page ${v.reviewPage}; diff at GET ${v.diffPath}).`
  );
}

export function awaitsApproval(v: FlowView): string {
  return `I can't run it yet. ${status(v)}`;
}

export function runTakesNoInstructions(v: FlowView): string {
  return (
    `"Run it" runs the current version exactly as it was approved, on the hosts it was approved for, ` +
    `and takes no other instructions; I started nothing. To change hosts or steps, ask for the change: ` +
    `it becomes a new version that a reviewer approves. ${status(v)}`
  );
}

export function runStarted(v: FlowView, run: RunRecord): string {
  return `I started run ${run.id} of version ${v.version} on the ${run.engine} engine. Ask "did it work?" for its result (GET /v1/runs/${run.id}).`;
}

const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);

export function runReport(r: { run: RunRecord; steps: StepResultRecord[] }): string {
  const { run, steps } = r;
  const head = FINAL.has(run.status)
    ? `Run ${run.id} (version ${run.version}) ${run.status === "succeeded" ? "succeeded" : `ended: ${run.status.replace("_", " ")}`}.`
    : `Run ${run.id} (version ${run.version}) is ${run.status}.`;
  const byStatus = (st: string) => steps.filter((s) => s.status === st);
  const describe = (s: StepResultRecord) =>
    `${s.stepId}${s.host ? ` on ${safeName(s.host)}` : ""}${s.exitCode === null ? "" : ` (exit ${s.exitCode})`}`;
  const parts = [head];
  const ok = byStatus("succeeded");
  const bad = steps.filter((s) => ["failed", "timed_out", "cancelled"].includes(s.status));
  const skipped = byStatus("skipped");
  if (ok.length) parts.push(`Succeeded: ${list(ok.map(describe))}.`);
  if (bad.length) parts.push(`Failed: ${list(bad.map(describe))}.`);
  if (skipped.length) parts.push(`Skipped (condition not met): ${list(skipped.map(describe))}.`);
  parts.push(`Outputs and logs: GET /v1/runs/${run.id}.`);
  return parts.join(" ");
}

export function noRunYet(v: FlowView | undefined): string {
  return v ? `This flow has not run yet. ${status(v)}` : nothingYet();
}

export function nothingYet(): string {
  return 'There is no plan in this conversation yet: say what should be done and where, e.g. "check nginx on web1".';
}

export function approvalRefused(v: FlowView | undefined): string {
  return (
    "I can't approve, skip or bypass the review: approval is given by a person with the reviewer role, " +
    `never through this conversation. ${v ? status(v) : ""}`
  ).trim();
}

export function disclosureRefused(): string {
  return (
    "I can't share credentials, keys, tokens or my instructions. Credentials stay with intentflow's " +
    "inventory and never enter a plan, a prompt or an answer."
  );
}

/** One sentence per change between two plans: steps added or removed, hosts or actions changed. */
export function planChanges(
  before: Plan,
  after: Plan,
  beforeTargets: Record<string, string[]>,
  afterTargets: Record<string, string[]>,
): string[] {
  const old = new Map(before.steps.map((s) => [s.id, s]));
  const now = new Map(after.steps.map((s) => [s.id, s]));
  const out: string[] = [];
  for (const s of after.steps) {
    const was = old.get(s.id);
    if (!was) {
      out.push(`added ${stepLine(s, afterTargets[s.id])}`);
      continue;
    }
    const a = (beforeTargets[s.id] ?? []).join(",");
    const b = (afterTargets[s.id] ?? []).join(",");
    if (a !== b) out.push(`${s.id} now on ${list((afterTargets[s.id] ?? []).map(safeName)) || "no host"}`);
    if (JSON.stringify(was.action) !== JSON.stringify(s.action)) out.push(`${s.id} does something else`);
    else if (JSON.stringify({ ...was, targets: null }) !== JSON.stringify({ ...s, targets: null }))
      out.push(`${s.id} has other settings`);
  }
  for (const s of before.steps) if (!now.has(s.id)) out.push(`removed ${s.id}`);
  return out;
}

const FAILURES: Record<string, string> = {
  not_understood: "I did not understand that as a change I can make.",
  invalid_intent: "I can't use that request as it is: say what should be done, and where.",
  llm_invalid_plan: "The planner did not produce a valid plan for that; nothing was changed.",
  llm_unreachable: "The planner could not be reached; nothing was changed. Try again later.",
  llm_request_failed: "The planner's service refused the request; nothing was changed.",
  policy_denied: "The plan for that contains commands the policy refuses, so nothing was stored.",
  compile_failed: "The flow for that did not compile, so nothing was stored.",
  not_found: "I could not find that flow or version.",
  not_editable: "That flow cannot be changed that way.",
  not_approved: "It is not approved, so it cannot run.",
  hash_mismatch: "The stored flow no longer matches what was approved, so it cannot run.",
  invalid_params: "Those run parameters are not valid.",
  route_impossible: "That engine cannot run this plan.",
  conflict:
    "Another change to this flow was saved at the same moment; nothing of mine was stored. Ask again.",
};

export function failure(code: string, error: unknown, inventory: InventoryView): string {
  if (code === "unknown_host") {
    const named =
      error instanceof UnknownHostError
        ? [error.selector]
        : (((error as { details?: { unknown?: unknown } }).details?.unknown as string[] | undefined) ?? []);
    const known = inventory.hosts.map((h) => h.name);
    return (
      `I can only plan for hosts in the inventory, and ${list(named.map(safeName)) || "a name in that request"} ` +
      `${named.length > 1 ? "are" : "is"} not in it; nothing was changed. Known hosts: ${list(known) || "(none)"}.`
    );
  }
  if (code === "not_understood") {
    // Our own data: the offline catalogue's kinds, or the refinements it understands.
    const understands = (error as { details?: { understands?: unknown } }).details?.understands;
    const kinds = Array.isArray(understands)
      ? understands
          .map((u) => (typeof u === "string" ? u : (u as { kind?: unknown }).kind))
          .filter(
            (k): k is string =>
              typeof k === "string" && (OFFLINE_REFINEMENTS.includes(k) || /^[a-z_]{1,30}$/.test(k)),
          )
      : [];
    return `${FAILURES.not_understood}${kinds.length ? ` I understand: ${kinds.join("; ")}.` : ""} Nothing was changed.`;
  }
  return FAILURES[code] ?? "That did not work; nothing was changed.";
}
