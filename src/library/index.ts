import { randomUUID } from "node:crypto";
import type { Inventory } from "../inventory/types";
import type { RouteDecision } from "../route";
import { LibraryNameTaken, LibraryVersionTaken } from "../store/library";
import type { FlowVersionRecord, LibraryEntryRecord, LibraryParam, Store } from "../store/types";
import { MAX_PROMPT_EXAMPLES } from "../plan/prompts";
import type { PlannerExample } from "../plan/provider";
import type { Plan } from "../plan/schema";
import { LIBRARY_THRESHOLD, type LibraryMatch, rankLibrary } from "./match";

export { LIBRARY_THRESHOLD, matchLibrary, rankLibrary } from "./match";

export class LibraryError extends Error {
  constructor(
    readonly code: "not_found" | "not_approved" | "name_taken" | "already_promoted" | "hosts_widened",
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "LibraryError";
  }
}

/** The entry's parameters: the plan's declared params, with a description for each. */
export function paramsOf(plan: Plan): LibraryParam[] {
  return plan.params.map((p) => ({
    name: p.name,
    type: p.type,
    description:
      p.description ??
      (p.type === "hosts" ? "the hosts to act on (inventory selectors)" : `${p.type} parameter ${p.name}`),
    default: p.default,
  }));
}

/** A reviewer promotes an approved version: its params and approved host set are read from it. */
export async function promote(
  store: Store,
  req: { flowId: string; version: number; name: string; description: string; examples: string[] },
  actor: string | null,
): Promise<LibraryEntryRecord> {
  const { v, plan } = await approvedVersion(store, req.flowId, req.version);
  const entries = await store.listLibraryEntries();
  if (entries.some((e) => e.name === req.name))
    throw new LibraryError("name_taken", `a library entry named "${req.name}" exists already`, "name");
  const already = entries.find((e) => e.flowId === v.flowId && e.version === v.version);
  if (already)
    throw new LibraryError(
      "already_promoted",
      `version ${v.version} of flow ${v.flowId} is in the library already, as "${already.name}"`,
      "version",
      { entry: already.id },
    );
  const entry = entryOf(v, plan, {
    name: req.name,
    description: req.description,
    examples: req.examples.length ? req.examples : [plan.intent],
    createdBy: actor,
  });
  try {
    await insertEntry(store, entry, v, { by: "reviewer" });
  } catch (e) {
    // Two promotions racing for one name or one version: the table's unique indexes decide.
    if (e instanceof LibraryNameTaken) throw new LibraryError("name_taken", e.message, "name");
    if (e instanceof LibraryVersionTaken) throw new LibraryError("already_promoted", e.message, "version");
    throw e;
  }
  return entry;
}

async function approvedVersion(
  store: Store,
  flowId: string,
  version: number,
): Promise<{ v: FlowVersionRecord; plan: Plan }> {
  const v = await store.getVersion(flowId, version);
  if (!v) throw new LibraryError("not_found", `flow ${flowId} has no version ${version}`, "version");
  if (v.status !== "approved" || !v.approvedHash)
    throw new LibraryError(
      "not_approved",
      `version ${version} is ${v.status}: only approved versions are promoted`,
      "version",
    );
  const plan = await store.getPlan(v.planId);
  if (!plan) throw new LibraryError("not_found", `plan ${v.planId} is missing`);
  return { v, plan: plan.plan };
}

function entryOf(
  v: FlowVersionRecord,
  plan: Plan,
  e: Pick<LibraryEntryRecord, "name" | "description" | "examples" | "createdBy">,
): LibraryEntryRecord {
  return {
    id: randomUUID(),
    ...e,
    flowId: v.flowId,
    version: v.version,
    params: paramsOf(plan),
    approvedHosts: [...new Set(Object.values(v.targets).flat())],
    createdAt: new Date().toISOString(),
  };
}

/** Stores the entry (its unique name and version decide races) and audits the promotion. */
async function insertEntry(
  store: Store,
  entry: LibraryEntryRecord,
  v: FlowVersionRecord,
  detail: Record<string, unknown>,
): Promise<void> {
  await store.promoteLibraryEntry(entry);
  await store.appendAudit({
    at: entry.createdAt,
    actor: entry.createdBy ?? "system",
    action: "library.promoted",
    subject: `flow:${v.flowId}@${v.version}`,
    detail: { entry: entry.id, name: entry.name, hash: v.approvedHash, ...detail },
  });
}

/**
 * Automatic promotion (LIBRARY_AUTO_PROMOTE_AFTER = n > 0): called when a run ends. Once an
 * approved version has n succeeded runs and is not in the library yet, it is promoted by
 * "system" with what its plan says: the plan's title as name (made unique with the flow and
 * version when taken), a description of its steps, its declared params, and the intent it was
 * planned from as example. Two workers ending runs of one version at once store one entry: the
 * unique (flow, version) index refuses the second, which then does nothing. Returns the entry
 * when this call promoted it, else null.
 */
export async function autoPromote(
  store: Store,
  run: { flowId: string; version: number; status: string },
  after: number,
): Promise<LibraryEntryRecord | null> {
  if (after <= 0 || run.status !== "succeeded") return null;
  const v = await store.getVersion(run.flowId, run.version);
  if (!v || v.status !== "approved" || !v.approvedHash) return null;
  const entries = await store.listLibraryEntries();
  if (entries.some((e) => e.flowId === v.flowId && e.version === v.version)) return null;
  const stats = await store.libraryStats(v.flowId, v.version);
  if (stats.succeeded < after) return null;
  const record = await store.getPlan(v.planId);
  if (!record) return null;
  const plan = record.plan;
  const names = new Set(entries.map((e) => e.name));
  const title = plan.title.slice(0, 150);
  const qualified = `${title} (flow ${v.flowId.slice(0, 8)} v${v.version})`;
  for (const name of names.has(title) ? [qualified] : [title, qualified]) {
    const entry = entryOf(v, plan, {
      name,
      description: describePlan(plan, stats.succeeded),
      examples: [plan.intent],
      createdBy: null,
    });
    try {
      await insertEntry(store, entry, v, { by: "auto", succeededRuns: stats.succeeded, after });
      return entry;
    } catch (e) {
      if (e instanceof LibraryVersionTaken) return null; // another worker promoted it first
      if (!(e instanceof LibraryNameTaken)) throw e;
    }
  }
  return null;
}

/** A promoted flow's description, from its plan: what each step does, and why it was promoted. */
export function describePlan(plan: Plan, succeeded: number): string {
  const steps = plan.steps.map((s) => s.name).join("; ");
  const text = `${plan.title}. Steps: ${steps}. Promoted automatically after ${succeeded} successful runs.`;
  return text.length <= 2000 ? text : `${text.slice(0, 1999)}…`;
}

/** How close an entry must come for its plan to be shown to an LLM planner as an example. */
export const EXAMPLE_FLOOR = 0.3;

export type LibraryReuse = {
  match: LibraryMatch;
  version: FlowVersionRecord;
  plan: Plan;
  route: RouteDecision;
};

/**
 * The library's answer to an intent, before any planner is asked:
 * - `reuse`: the best entry (score ≥ LIBRARY_THRESHOLD) with the hosts inside its approved set
 *   (all of them, or none named): its approved version, with the parameters read from the intent;
 * - `widen`: the best entry, but the intent names hosts outside its approved set: the pipeline
 *   makes a new version of the same flow for the wider hosts, which needs approval (an entry
 *   whose hosts are not a parameter cannot be widened that way: refused, hosts_widened);
 * - `narrow`: the best entry, and the intent names a strict subset of its approved hosts. Run
 *   params never change which hosts a version reaches (its targets are fixed when it is made, and
 *   a flow-engine bundle has its host lists written in), so the pipeline answers with a version of
 *   the same flow for just those hosts, its approval carried over, since narrowing never widens
 *   reach (an entry whose hosts are not a parameter cannot be narrowed: planner);
 * - `plan`: no entry answers, so a planner is asked, with the closest entries (score ≥
 *   EXAMPLE_FLOOR, at most MAX_PROMPT_EXAMPLES) as examples of the team's patterns.
 */
export type LibraryAnswer =
  | ({ kind: "reuse" } & LibraryReuse)
  | ({ kind: "widen"; outside: string[]; hostsParam: string } & LibraryReuse)
  | ({ kind: "narrow"; hostsParam: string } & LibraryReuse)
  | { kind: "plan"; examples: PlannerExample[] };

export async function consultLibrary(
  store: Store,
  inventory: Inventory,
  text: string,
): Promise<LibraryAnswer> {
  const entries = await store.listLibraryEntries();
  const ranked = rankLibrary(entries, text, inventory);
  const best = ranked[0];
  if (best && best.score >= LIBRARY_THRESHOLD && !best.unresolved.length) {
    const answer = await answerWith(store, best);
    if (answer) return answer;
  }
  return { kind: "plan", examples: await examplesOf(store, ranked) };
}

/**
 * The planner's examples for an intent (what a `plan` answer carries), for the pipeline when a
 * `narrow` answer turns out not to fit and the intent goes to the planner after all.
 */
export async function plannerExamples(
  store: Store,
  inventory: Inventory,
  text: string,
): Promise<PlannerExample[]> {
  return examplesOf(store, rankLibrary(await store.listLibraryEntries(), text, inventory));
}

async function answerWith(store: Store, match: LibraryMatch): Promise<LibraryAnswer | null> {
  const { entry } = match;
  const version = await store.getVersion(entry.flowId, entry.version);
  if (!version || version.status !== "approved") return null;
  const record = await store.getPlan(version.planId);
  if (!record) return null;
  const found = { match, version, plan: record.plan, route: version.route as RouteDecision };
  if (!match.hosts) return { kind: "reuse", ...found };
  const approved = new Set(entry.approvedHosts);
  const outside = match.hosts.filter((h) => !approved.has(h));
  if (outside.length) {
    const hostsParam = record.plan.params.find((p) => p.type === "hosts");
    if (!hostsParam)
      throw new LibraryError(
        "hosts_widened",
        `the library flow "${entry.name}" is approved for ${entry.approvedHosts.join(", ")} and its hosts ` +
          `are not a parameter: ${outside.join(", ")} would need a new flow; ask without naming it, or submit a plan`,
        "text",
        {
          entry: entry.id,
          flowId: entry.flowId,
          version: entry.version,
          outside,
          approvedHosts: entry.approvedHosts,
        },
      );
    return { kind: "widen", outside, hostsParam: hostsParam.name, ...found };
  }
  if (match.hosts.length === approved.size) return { kind: "reuse", ...found };
  // A strict subset: a version for just those hosts, through the hosts parameter (none: planner).
  const hostsParam = record.plan.params.find((p) => p.type === "hosts");
  return hostsParam ? { kind: "narrow", hostsParam: hostsParam.name, ...found } : null;
}

/** The closest entries' approved plans, as planner examples (entries whose version is gone are skipped). */
async function examplesOf(store: Store, ranked: readonly LibraryMatch[]): Promise<PlannerExample[]> {
  const examples: PlannerExample[] = [];
  for (const m of ranked) {
    if (m.score < EXAMPLE_FLOOR || examples.length >= MAX_PROMPT_EXAMPLES) break;
    const v = await store.getVersion(m.entry.flowId, m.entry.version);
    const record = v && v.status === "approved" ? await store.getPlan(v.planId) : undefined;
    if (!record) continue;
    examples.push({
      name: m.entry.name,
      description: m.entry.description,
      intent: m.entry.examples[0] ?? record.plan.intent,
      plan: record.plan,
    });
  }
  return examples;
}

/**
 * The library version's plan for other hosts (wider, or a subset): the same plan, its hosts
 * parameter defaulting to the hosts the intent named, so the same code is made for those targets.
 */
export function planOnHosts(plan: Plan, hostsParam: string, hosts: readonly string[]): Plan {
  return {
    ...plan,
    params: plan.params.map((p) => (p.name === hostsParam ? { ...p, default: [...hosts] } : p)),
  };
}
