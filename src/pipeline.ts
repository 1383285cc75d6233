import { randomUUID } from "node:crypto";
import type { CompiledFlow } from "./compile";
import type { Inventory } from "./inventory/types";
import { consultLibrary, LibraryError, type LibraryReuse, planOnHosts, plannerExamples } from "./library";
import { parsePlanInput } from "./plan/input";
import type { PlanProvider } from "./plan/provider";
import type { Plan } from "./plan/schema";
import { runnableHash } from "./review/hash";
import type { CommandPolicy } from "./capabilities/command-policy";
import { type ApprovalPolicy, assessPlan, autoApproves } from "./review/policy";
import { type EnginePreference, type RouteDecision, route } from "./route";
import { StoreConflictError } from "./store/errors";
import type { FlowVersionRecord, PlanRecord, Store } from "./store/types";

/**
 * The pipeline, in order: plan → resolve hosts → route → compile (flow engine) → review.
 * Each stage is a function from one typed value to the next and is timed. Nothing is
 * stored until every stage has accepted the input, so bad input leaves the store as it was.
 */

export type PipelineDeps = {
  store: Store;
  inventory: Inventory;
  planner: PlanProvider;
  compiler: {
    compilePlan(plan: Plan, targets: Record<string, string[]>): Promise<CompiledFlow>;
    compileSource(source: string): Promise<CompiledFlow>;
  };
  policy: ApprovalPolicy;
  /** The admin's command policy (COMMAND_POLICY_FILE); the built-in rules when absent. */
  commandPolicy?: CommandPolicy;
  flowAvailable: boolean;
  flowRolloutPercent: number;
};

export type RouteRequest = { engine: EnginePreference; force: boolean; actor: string | null };

export type VersionResult = {
  plan: Plan;
  route: RouteDecision;
  flow: {
    id: string;
    version: number;
    status: FlowVersionRecord["status"];
    engine: FlowVersionRecord["engine"];
    readOnly: boolean;
    hash: string;
    source?: string;
    diagnostics?: FlowVersionRecord["diagnostics"];
  };
  planner: string | null;
  warnings: string[];
  timings: Record<string, number>;
  /** Set when the flow library answered: the approved flow reused, and the run's parameters. */
  library?: LibraryAnswerView;
};

/** What the answer says about the library flow it used (the API's `library` field). */
export type LibraryAnswerView = {
  entryId: string;
  name: string;
  /** The library entry's flow and approved version. */
  flowId: string;
  version: number;
  score: number;
  /** Values for the run's params, read from the intent. */
  params: Record<string, unknown>;
  /**
   * "carried_over": `flow` is approved code reused as it is (or, narrowed, the same code for a
   * subset of its hosts), ready to run;
   * "required": `flow` is a new version (wider hosts) pending review, to approve before it runs.
   */
  approval: "carried_over" | "required";
  /** Set when the intent named hosts outside the entry's approved set. */
  widened?: {
    /** The hosts the intent named that the entry's version may not touch. */
    outside: string[];
    approvedHosts: string[];
    /** false: an identical version for these hosts existed already and is answered instead. */
    created: boolean;
  };
  /**
   * Set when the intent named a strict subset of the entry's approved hosts: `flow` is a version
   * of the same flow for just those hosts, approved by carrying the entry version's approval over.
   */
  narrowed?: {
    hosts: string[];
    approvedHosts: string[];
    /** false: an approved version for these hosts existed already and is answered instead. */
    created: boolean;
  };
};

export class PipelineError extends Error {
  constructor(
    readonly code: "policy_denied" | "compile_failed" | "not_found" | "not_editable" | "hosts_widened",
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "PipelineError";
  }
}

async function timed<T>(
  timings: Record<string, number>,
  stage: string,
  fn: () => Promise<T> | T,
): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings[stage] = Math.round((performance.now() - start) * 100) / 100;
  }
}

export async function versionFromIntent(
  deps: PipelineDeps,
  text: string,
  req: RouteRequest,
): Promise<VersionResult> {
  const timings: Record<string, number> = {};
  // The flow library first: an approved flow that fits is reused as it is (no planner call).
  const answer = await timed(timings, "library", () =>
    consultLibrary(deps.store, deps.inventory, text).catch((e: unknown) => {
      // A library flow whose hosts are not a parameter cannot be widened: a PipelineError (409
      // over REST), so chat and MCP explain it too.
      if (e instanceof LibraryError) throw new PipelineError("hosts_widened", e.message, e.field, e.details);
      throw e;
    }),
  );
  if (answer.kind === "reuse") {
    const { match, version: v } = answer;
    return {
      ...reusedView(answer, v),
      warnings: [
        `reused the approved library flow "${match.entry.name}" (flow ${v.flowId} version ${v.version}, score ${match.score}): no new code, its approval carries over`,
      ],
      timings,
      library: { ...libraryView(answer), approval: "carried_over" },
    };
  }
  if (answer.kind === "widen") return widenLibraryFlow(deps, answer, req, timings);
  if (answer.kind === "narrow") {
    const narrowed = await narrowLibraryFlow(deps, answer, req, timings);
    if (narrowed) return narrowed;
  }
  const examples =
    answer.kind === "plan" ? answer.examples : await plannerExamples(deps.store, deps.inventory, text);
  const ctx = {
    inventory: deps.inventory.describe(),
    // The closest library entries, so an LLM planner follows the team's patterns (none: no section).
    ...(examples.length ? { examples } : {}),
  };
  const planned = await timed(timings, "plan", () => deps.planner.plan(text, ctx));
  return makeVersion(
    deps,
    { plan: planned.plan, origin: "intent", planner: planned.provider, warnings: [] },
    req,
    timings,
  );
}

function libraryView(answer: LibraryReuse): Omit<LibraryAnswerView, "approval"> {
  const { match } = answer;
  return {
    entryId: match.entry.id,
    name: match.entry.name,
    flowId: match.entry.flowId,
    version: match.entry.version,
    score: match.score,
    params: match.params,
  };
}

function reusedView(
  answer: Pick<LibraryReuse, "plan" | "route">,
  v: FlowVersionRecord,
): Pick<VersionResult, "plan" | "route" | "flow" | "planner"> {
  return {
    plan: answer.plan,
    route: answer.route,
    flow: {
      id: v.flowId,
      version: v.version,
      status: v.status,
      engine: v.engine,
      readOnly: v.readOnly,
      hash: v.hash,
      ...(v.source !== null ? { source: v.source, diagnostics: v.diagnostics } : {}),
    },
    planner: "library",
  };
}

/**
 * A library flow asked for on hosts outside its approved set. The code is the entry's; only its
 * reach changes, and a wider reach needs a new approval: the same plan with its hosts parameter
 * defaulting to the named hosts goes through route and compile as the next version of the same
 * flow, and the policy decides its status (pending review unless it auto-approves read-only flows).
 * An identical version made before (same hash: same code for the same hosts) is answered instead
 * of a second copy, and when it was approved since, its approval carries over.
 */
async function widenLibraryFlow(
  deps: PipelineDeps,
  answer: LibraryReuse & { outside: string[]; hostsParam: string },
  req: RouteRequest,
  timings: Record<string, number>,
): Promise<VersionResult> {
  const { match, plan } = answer;
  const { entry } = match;
  const hosts = match.hosts ?? [];
  const wider = planOnHosts(plan, answer.hostsParam, hosts);
  const input: PlannedInput = { plan: wider, origin: "intent", planner: "library", warnings: [] };
  const prepared = await prepareVersion(deps, input, { engine: answer.version.engine, force: true }, timings);
  const reached = new Set(Object.values(prepared.targets).flat());
  const missed = hosts.filter((h) => !reached.has(h));
  if (missed.length)
    // Some steps name their hosts outright: the hosts parameter does not carry the flow there.
    throw new PipelineError(
      "hosts_widened",
      `the library flow "${entry.name}" does not take ${missed.join(", ")} through its hosts parameter ` +
        "(some steps name their hosts outright); ask without naming it, or submit a plan",
      "text",
      { entry: entry.id, flowId: entry.flowId, version: entry.version, outside: answer.outside },
    );
  const widened = { outside: answer.outside, approvedHosts: entry.approvedHosts };
  const existing = (await deps.store.listVersions({ flowId: entry.flowId }))
    .filter((v) => v.hash === prepared.hash && v.status !== "rejected")
    .sort((a, b) => b.version - a.version)
    .sort((a, b) => Number(b.status === "approved") - Number(a.status === "approved"))[0];
  const base = `the library flow "${entry.name}" (flow ${entry.flowId} version ${entry.version}) is approved for ${entry.approvedHosts.join(", ")}; ${answer.outside.join(", ")} widen its reach`;
  if (existing) {
    const approved = existing.status === "approved";
    return {
      ...reusedView({ plan: wider, route: existing.route as RouteDecision }, existing),
      warnings: [
        approved
          ? `${base}: version ${existing.version}, the same code for these hosts, was approved; its approval carries over`
          : `${base}: version ${existing.version}, the same code for these hosts, is ${existing.status}: approve it to run`,
      ],
      timings,
      library: {
        ...libraryView(answer),
        approval: approved ? "carried_over" : "required",
        widened: { ...widened, created: false },
      },
    };
  }
  const latest = await deps.store.latestVersion(entry.flowId);
  const result = await saveVersion(deps, prepared, req, timings, {
    flowId: entry.flowId,
    version: (latest?.version ?? entry.version) + 1,
    base: entry.version,
    audit: { library: entry.id, widened: answer.outside },
  });
  const approved = result.flow.status === "approved";
  return {
    ...result,
    planner: "library",
    warnings: [
      approved
        ? `${base}: version ${result.flow.version} runs the same code on them, approved by policy (read-only)`
        : `${base}: version ${result.flow.version} runs the same code on them and needs a reviewer's approval before it runs`,
    ],
    library: {
      ...libraryView(answer),
      approval: approved ? "carried_over" : "required",
      widened: { ...widened, created: true },
    },
  };
}

/**
 * A library flow asked for on a strict subset of its approved hosts. A run's params do not change
 * which hosts a version reaches (the queue engine runs each step on the version's targets; a
 * flow-engine bundle has its host lists written in), so reusing the entry's version as it is
 * would touch hosts the intent did not name. Narrowing never widens reach, so no new approval is
 * needed: the same plan with its hosts parameter defaulting to the named hosts goes through route
 * (the entry's engine) and compile as the next version of the same flow, and is stored approved,
 * the entry version's approval carried over (audited, with who approved the entry's version).
 *
 * That holds only when the new version is the entry's code on fewer hosts: the same engine, the
 * same steps, each step's hosts a subset of what the entry's version was approved for, and the
 * hosts reached exactly the hosts named. Otherwise (steps that name their hosts outright still
 * reach the others) this answers null and the intent goes to the planner. An approved version
 * with the same hash (same code for the same hosts) is answered instead of a copy; a rejected
 * one means a reviewer refused exactly this code, so its approval is not carried over (null).
 */
async function narrowLibraryFlow(
  deps: PipelineDeps,
  answer: LibraryReuse & { hostsParam: string },
  req: RouteRequest,
  timings: Record<string, number>,
): Promise<VersionResult | null> {
  const { match, plan, version: base } = answer;
  const { entry } = match;
  const hosts = match.hosts ?? [];
  const input: PlannedInput = {
    plan: planOnHosts(plan, answer.hostsParam, hosts),
    origin: "intent",
    planner: "library",
    warnings: [],
  };
  const prepared = await prepareVersion(deps, input, { engine: base.engine, force: true }, timings);
  if (!narrowsBase(prepared, base, hosts)) return null;
  const approvedHosts = entry.approvedHosts;
  const reused = `reused the approved library flow "${entry.name}" (flow ${entry.flowId} version ${entry.version}, score ${match.score})`;
  const subset = `on ${hosts.join(", ")}, a subset of the hosts it is approved for (${approvedHosts.join(", ")})`;
  const answered = (v: FlowVersionRecord, created: boolean, note: string): VersionResult => ({
    ...reusedView({ plan: input.plan, route: v.route as RouteDecision }, v),
    warnings: [`${reused} ${subset}: ${note}; no new code was planned and its approval carries over`],
    timings,
    library: {
      ...libraryView(answer),
      approval: "carried_over",
      narrowed: { hosts: [...hosts], approvedHosts, created },
    },
  });
  for (let attempt = 0; ; attempt++) {
    const same = (await deps.store.listVersions({ flowId: entry.flowId })).filter(
      (v) => v.hash === prepared.hash,
    );
    const approved = same.filter((v) => v.status === "approved").sort((a, b) => b.version - a.version)[0];
    if (approved)
      return answered(approved, false, `version ${approved.version} is the same code for just these hosts`);
    if (same.some((v) => v.status === "rejected")) return null;
    const latest = await deps.store.latestVersion(entry.flowId);
    const next = (latest?.version ?? entry.version) + 1;
    try {
      const result = await saveVersion(
        deps,
        prepared,
        req,
        timings,
        {
          flowId: entry.flowId,
          version: next,
          base: entry.version,
          audit: {
            library: entry.id,
            narrowed: [...hosts],
            approvalFrom: { version: base.version, approvedBy: base.approvedBy, hash: base.approvedHash },
          },
        },
        {
          by: "library:approval-carried-over",
          comment:
            `the approval of version ${base.version} (by ${base.approvedBy ?? "?"}) carries over: the same plan ` +
            `${subset}`,
        },
      );
      const v = await deps.store.getVersion(result.flow.id, result.flow.version);
      if (!v)
        throw new PipelineError("not_found", `flow ${result.flow.id} has no version ${result.flow.version}`);
      return answered(
        v,
        true,
        `version ${v.version} is the same code with only these hosts in its host lists`,
      );
    } catch (e) {
      // Another request took that version number first (perhaps for these very hosts): look again.
      if (!(e instanceof StoreConflictError) || attempt >= 4) throw e;
    }
  }
}

/**
 * True when the prepared version is the base version's code on fewer hosts: the same engine, the
 * same steps, each step's hosts within the base's for that step, and exactly `hosts` reached.
 */
function narrowsBase(prepared: PreparedVersion, base: FlowVersionRecord, hosts: readonly string[]): boolean {
  if (prepared.decision.engine !== base.engine) return false;
  const steps = Object.keys(prepared.targets);
  if (steps.length !== Object.keys(base.targets).length) return false;
  const reached = new Set<string>();
  for (const step of steps) {
    const allowed = new Set(base.targets[step] ?? []);
    for (const h of prepared.targets[step]!) {
      if (!allowed.has(h)) return false;
      reached.add(h);
    }
  }
  return reached.size === hosts.length && hosts.every((h) => reached.has(h));
}

export async function versionFromPlanInput(
  deps: PipelineDeps,
  body: unknown,
  req: RouteRequest,
): Promise<VersionResult> {
  const timings: Record<string, number> = {};
  const input = await timed(timings, "plan", () => parsePlanInput(body));
  return makeVersion(
    deps,
    { plan: input.plan, origin: input.origin, planner: null, warnings: input.warnings },
    req,
    timings,
  );
}

export type PlannedInput = {
  plan: Plan;
  origin: PlanRecord["origin"];
  planner: string | null;
  warnings: string[];
};

export type PreparedVersion = {
  input: PlannedInput;
  targets: Record<string, string[]>;
  decision: RouteDecision;
  compiled: CompiledFlow | null;
  risk: ReturnType<typeof assessPlan>;
  hash: string;
};

/** Every stage but storing: what `intentflow plan` shows, and what makeVersion saves. */
export async function prepareVersion(
  deps: Omit<PipelineDeps, "store" | "policy">,
  input: PlannedInput,
  req: Omit<RouteRequest, "actor">,
  timings: Record<string, number>,
): Promise<PreparedVersion> {
  const { plan } = input;
  const targets = await timed(timings, "resolve", () => resolveTargets(deps.inventory, plan));
  const risk = assessPlan(plan, deps.commandPolicy);
  if (risk.denied.length)
    throw new PipelineError(
      "policy_denied",
      `the plan contains commands the policy refuses: ${risk.denied.map((d) => `${d.stepId} (${d.reason})`).join("; ")}`,
      `steps.${risk.denied[0]!.stepId}`,
      risk.denied,
    );
  const decision = await timed(timings, "route", () =>
    route(plan, {
      preference: req.engine,
      force: req.force,
      flowAvailable: deps.flowAvailable,
      flowRolloutPercent: deps.flowRolloutPercent,
    }),
  );
  const compiled =
    decision.engine === "flow"
      ? await timed(timings, "compile", () => deps.compiler.compilePlan(plan, targets))
      : null;
  if (compiled && !compiled.bundle)
    throw new PipelineError(
      "compile_failed",
      "the generated flow did not compile",
      undefined,
      compiled.diagnostics,
    );
  const hash = compiled?.bundle ? runnableHash({ bundle: compiled.bundle }) : runnableHash({ plan, targets });
  return { input, targets, decision, compiled, risk, hash };
}

/**
 * The next version of an existing flow from a new plan (a chat refinement, "also check disk"):
 * every stage runs as for a new intent, and the version is saved under the same flow with the
 * next number, pending review unless the policy approves it, so its diff is against the last.
 */
export async function versionFromRefinedPlan(
  deps: PipelineDeps,
  flowId: string,
  input: PlannedInput,
  req: RouteRequest,
): Promise<VersionResult> {
  const latest = await deps.store.latestVersion(flowId);
  if (!latest) throw new PipelineError("not_found", `no flow ${flowId}`);
  return makeVersion(deps, input, req, {}, { flowId, version: latest.version + 1, base: latest.version });
}

async function makeVersion(
  deps: PipelineDeps,
  input: PlannedInput,
  req: RouteRequest,
  timings: Record<string, number>,
  into?: { flowId: string; version: number; base: number },
): Promise<VersionResult> {
  return saveVersion(deps, await prepareVersion(deps, input, req, timings), req, timings, into);
}

/** Stores a prepared version (pending, or approved by policy) with its plan, and audits it. */
async function saveVersion(
  deps: PipelineDeps,
  prepared: PreparedVersion,
  req: RouteRequest,
  timings: Record<string, number>,
  into?: { flowId: string; version: number; base: number; audit?: Record<string, unknown> },
  /** An approval carried over from an approved version this one narrows (the library); else the policy decides. */
  carried?: { by: string; comment: string },
): Promise<VersionResult> {
  const { input, targets, decision, compiled, risk, hash } = prepared;
  const { plan } = input;
  const hasErrors = Boolean(compiled?.diagnostics.some((d) => d.severity === "error"));
  const approved = carried !== undefined || autoApproves(deps.policy, risk, hasErrors);
  const now = new Date().toISOString();
  const planRecord: PlanRecord = {
    id: randomUUID(),
    plan,
    origin: input.origin,
    planner: input.planner,
    createdAt: now,
  };
  const flowId = into?.flowId ?? randomUUID();
  const version: FlowVersionRecord = {
    flowId,
    version: into?.version ?? 1,
    planId: planRecord.id,
    engine: decision.engine,
    status: approved ? "approved" : "pending",
    targets,
    route: decision,
    source: compiled?.source ?? null,
    diagnostics: compiled?.diagnostics ?? [],
    bundle: compiled?.bundle ?? null,
    sourceMap: compiled?.sourceMap ?? null,
    hash,
    readOnly: risk.readOnly,
    createdAt: now,
    createdBy: req.actor,
    approvedBy: carried?.by ?? (approved ? "policy:auto-approve-read-only" : null),
    approvedAt: approved ? now : null,
    approvedHash: approved ? hash : null,
    comment: carried?.comment ?? (approved ? "read-only flow approved by policy" : null),
  };
  await timed(timings, "store", async () => {
    await deps.store.saveVersion({
      plan: planRecord,
      flow: { id: flowId, name: plan.title, createdAt: now },
      version,
    });
    await auditVersion(deps.store, version, {
      origin: input.origin,
      planner: input.planner,
      ...(into ? { base: into.base, ...(into.audit ?? { refined: true }) } : {}),
    });
  });
  return {
    plan,
    route: decision,
    flow: {
      id: flowId,
      version: version.version,
      status: version.status,
      engine: version.engine,
      readOnly: risk.readOnly,
      hash,
      ...(compiled ? { source: compiled.source, diagnostics: compiled.diagnostics } : {}),
    },
    planner: input.planner,
    warnings: input.warnings,
    timings,
  };
}

/** Every step's selectors expanded to inventory host names; unknown names fail here, before anything is stored. */
export function resolveTargets(inventory: Inventory, plan: Plan): Record<string, string[]> {
  const params = new Map(plan.params.map((p) => [p.name, p]));
  const targets: Record<string, string[]> = {};
  for (const s of plan.steps) {
    if (!s.targets) continue;
    const selectors = s.targets.flatMap((t) => {
      const m = /^\{\{\s*params\.([a-zA-Z0-9_]+)\s*\}\}$/.exec(t);
      if (!m) return [t];
      const d = params.get(m[1]!)?.default;
      return Array.isArray(d) ? d : typeof d === "string" ? [d] : [];
    });
    targets[s.id] = inventory.resolve(selectors);
  }
  return targets;
}

/**
 * A reviewer's edit of a flow's source: checked and bundled like generated code, stored as the
 * next version, pending review. An edit that does not compile is refused with its
 * diagnostics and stores nothing. Edited code is never classified read-only: a person reviews it.
 */
export async function versionFromEditedSource(
  deps: PipelineDeps,
  flowId: string,
  edit: { source: string; base?: number },
  actor: string | null,
): Promise<FlowVersionRecord> {
  const latest = await deps.store.latestVersion(flowId);
  if (!latest) throw new PipelineError("not_found", `no flow ${flowId}`);
  const base = edit.base === undefined ? latest : await deps.store.getVersion(flowId, edit.base);
  if (!base) throw new PipelineError("not_found", `flow ${flowId} has no version ${edit.base}`, "base");
  if (base.engine !== "flow")
    throw new PipelineError(
      "not_editable",
      "this flow runs on the queue engine and has no source: submit a new plan instead",
      "source",
    );
  const compiled = await deps.compiler.compileSource(edit.source);
  if (!compiled.bundle)
    throw new PipelineError(
      "compile_failed",
      "the edited source did not compile",
      "source",
      compiled.diagnostics,
    );
  const now = new Date().toISOString();
  const plan = await deps.store.getPlan(base.planId);
  if (!plan) throw new PipelineError("not_found", `plan ${base.planId} of flow ${flowId} is missing`);
  const version: FlowVersionRecord = {
    ...base,
    version: latest.version + 1,
    status: "pending",
    source: compiled.source,
    diagnostics: compiled.diagnostics,
    bundle: compiled.bundle,
    sourceMap: compiled.sourceMap,
    hash: runnableHash({ bundle: compiled.bundle }),
    readOnly: false,
    createdAt: now,
    createdBy: actor,
    approvedBy: null,
    approvedAt: null,
    approvedHash: null,
    comment: null,
  };
  await deps.store.saveVersion({
    plan,
    flow: { id: flowId, name: plan.plan.title, createdAt: now },
    version,
  });
  await auditVersion(deps.store, version, { origin: "edit", base: base.version });
  return version;
}

/** Every new version is in the audit trail, and so is the policy's approval when it gave one. */
async function auditVersion(
  store: Store,
  v: FlowVersionRecord,
  detail: Record<string, unknown>,
): Promise<void> {
  const subject = `flow:${v.flowId}@${v.version}`;
  await store.appendAudit({
    at: v.createdAt,
    actor: v.createdBy ?? "system",
    action: "version.created",
    subject,
    detail: { engine: v.engine, hash: v.hash, readOnly: v.readOnly, ...detail },
  });
  if (v.status === "approved")
    await store.appendAudit({
      at: v.createdAt,
      actor: v.approvedBy ?? "policy",
      action: "version.approved",
      subject,
      detail: { hash: v.hash, comment: v.comment },
    });
}
