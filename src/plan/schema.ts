import { z } from "zod";

/**
 * The Plan: the single source of truth for what an intent means.
 *
 * Shaped for OpenAI strict structured outputs so the same schema is what the LLM is given:
 * every property is required (absent values are `null`, never optional), unions are
 * `z.union` (JSON Schema `anyOf`) rather than `z.discriminatedUnion` (which zod 4 emits as
 * `oneOf`, rejected by strict mode), no records, shallow nesting.
 *
 * Placeholders in command strings, URLs and messages: `{{params.NAME}}` and
 * `{{steps.ID.stdout}}` (also `.exitCode`). They are never spliced as text: the compiler
 * turns them into SDK interpolations that the sandbox shell-quotes.
 */

export const STEP_ID = /^[a-z][a-z0-9_]{0,47}$/;
export const PARAM_NAME = /^[a-z][a-zA-Z0-9_]{0,47}$/;

const text = (max: number) => z.string().min(1).max(max);

export const SshAction = z
  .object({
    kind: z.literal("ssh"),
    command: text(4000).describe("Shell command run on each target host; may use {{params.x}} placeholders"),
  })
  .strict();

export const PowershellAction = z
  .object({
    kind: z.literal("powershell"),
    script: text(8000).describe("PowerShell script run over SSH on each target host"),
  })
  .strict();

export const HttpAction = z
  .object({
    kind: z.literal("http"),
    method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    url: text(2000).describe("Absolute http(s) URL; {{host}} stands for each target host's name"),
    body: z.string().max(100_000).nullable(),
    expectStatus: z.number().int().min(100).max(599).nullable(),
  })
  .strict();

export const NetAction = z
  .object({
    kind: z.literal("net"),
    check: z.enum(["tcp", "dns", "ping"]),
    port: z.number().int().min(1).max(65535).nullable().describe("Required for tcp"),
  })
  .strict();

export const SleepAction = z
  .object({ kind: z.literal("sleep"), ms: z.number().int().min(0).max(3_600_000) })
  .strict();

export const LogAction = z.object({ kind: z.literal("log"), message: text(2000) }).strict();

export const NotifyAction = z
  .object({ kind: z.literal("notify"), channel: text(100), message: text(2000) })
  .strict();

export const Action = z.union([
  SshAction,
  PowershellAction,
  HttpAction,
  NetAction,
  SleepAction,
  LogAction,
  NotifyAction,
]);
export type Action = z.infer<typeof Action>;
export type ActionKind = Action["kind"];

/** Actions that run once per target host. */
export const HOST_ACTIONS: readonly ActionKind[] = ["ssh", "powershell", "http", "net"];

export const Condition = z
  .object({
    step: z.string().regex(STEP_ID).describe("The earlier step whose result is tested"),
    field: z.enum(["exitCode", "stdout", "status"]),
    op: z.enum(["eq", "ne", "gt", "lt", "contains", "not_contains"]),
    value: z.union([z.string().max(1000), z.number()]),
    perHost: z.boolean().describe("true: evaluate for each target host against that host's result of `step`"),
  })
  .strict();
export type Condition = z.infer<typeof Condition>;

export const Retry = z
  .object({
    attempts: z.number().int().min(1).max(20),
    backoffMs: z.number().int().min(0).max(600_000),
    factor: z.number().min(1).max(10),
  })
  .strict();
export type Retry = z.infer<typeof Retry>;

export const OnError = z
  .object({
    mode: z.enum(["fail", "continue", "compensate"]),
    steps: z
      .array(z.string().regex(STEP_ID))
      .max(20)
      .nullable()
      .describe("With compensate: handler steps (trigger on_error) to run before failing"),
  })
  .strict();
export type OnError = z.infer<typeof OnError>;

export const Until = z
  .object({
    field: z.enum(["exitCode", "stdout", "status"]),
    op: z.enum(["eq", "ne", "gt", "lt", "contains", "not_contains"]),
    value: z.union([z.string().max(1000), z.number()]),
    intervalMs: z.number().int().min(100).max(3_600_000),
    timeoutMs: z.number().int().min(100).max(86_400_000),
  })
  .strict();
export type Until = z.infer<typeof Until>;

export const Step = z
  .object({
    id: z.string().regex(STEP_ID).describe("lower_snake_case, unique in the plan"),
    name: text(200),
    description: z.string().max(1000).nullable(),
    action: Action,
    targets: z
      .array(text(200))
      .max(500)
      .nullable()
      .describe(
        "Host selectors: host names, group:NAME, tag:NAME or {{params.NAME}}; null for log/sleep/notify",
      ),
    dependsOn: z.array(z.string().regex(STEP_ID)).max(100),
    when: Condition.nullable(),
    until: Until.nullable().describe("Poll: repeat the action until the condition holds"),
    retry: Retry.nullable(),
    timeoutMs: z.number().int().min(100).max(86_400_000).nullable(),
    concurrency: z.number().int().min(1).max(500).nullable().describe("Hosts handled at once"),
    onError: OnError.nullable(),
    trigger: z.enum(["normal", "on_error"]).describe("on_error steps run only from another step's onError"),
  })
  .strict();
export type Step = z.infer<typeof Step>;

export const Param = z
  .object({
    name: z.string().regex(PARAM_NAME),
    type: z.enum(["string", "number", "boolean", "hosts"]),
    description: z.string().max(500).nullable(),
    default: z
      .union([z.string().max(1000), z.number(), z.boolean(), z.array(z.string().max(200)).max(500)])
      .nullable(),
  })
  .strict();
export type Param = z.infer<typeof Param>;

export const PlanBody = z
  .object({
    title: text(200),
    intent: text(4000).describe("The operator's request, as given"),
    params: z.array(Param).max(50),
    steps: z.array(Step).min(1).max(200),
  })
  .strict();

export const Plan = PlanBody.superRefine(checkPlanReferences);
export type Plan = z.infer<typeof Plan>;

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

/** Every `{{...}}` placeholder in a string, trimmed. */
export function placeholders(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "");
}

function actionTexts(a: Action): string[] {
  switch (a.kind) {
    case "ssh":
      return [a.command];
    case "powershell":
      return [a.script];
    case "http":
      return [a.url, a.body ?? ""];
    case "log":
    case "notify":
      return [a.message];
    default:
      return [];
  }
}

/** Cross-field rules the JSON Schema cannot say: unique ids, known references, no cycles. */
function checkPlanReferences(plan: z.infer<typeof PlanBody>, ctx: z.RefinementCtx): void {
  const ids = new Map<string, number>();
  plan.steps.forEach((s, i) => {
    if (ids.has(s.id))
      ctx.addIssue({ code: "custom", path: ["steps", i, "id"], message: `duplicate step id "${s.id}"` });
    ids.set(s.id, i);
  });
  const params = new Map(plan.params.map((p) => [p.name, p]));
  const seenParams = new Set<string>();
  plan.params.forEach((p, i) => {
    if (seenParams.has(p.name))
      ctx.addIssue({
        code: "custom",
        path: ["params", i, "name"],
        message: `duplicate parameter "${p.name}"`,
      });
    seenParams.add(p.name);
  });

  plan.steps.forEach((s, i) => {
    const at = (...p: (string | number)[]) => ["steps", i, ...p];
    const refStep = (id: string, path: (string | number)[]) => {
      if (!ids.has(id)) ctx.addIssue({ code: "custom", path, message: `unknown step "${id}"` });
      else if (id === s.id) ctx.addIssue({ code: "custom", path, message: "a step cannot refer to itself" });
    };
    s.dependsOn.forEach((d, j) => refStep(d, at("dependsOn", j)));
    if (s.when) {
      refStep(s.when.step, at("when", "step"));
      if (!s.dependsOn.includes(s.when.step))
        ctx.addIssue({
          code: "custom",
          path: at("when", "step"),
          message: `condition reads step "${s.when.step}", which must be listed in dependsOn`,
        });
    }
    s.onError?.steps?.forEach((h, j) => {
      refStep(h, at("onError", "steps", j));
      const handler = plan.steps[ids.get(h) ?? -1];
      if (handler && handler.trigger !== "on_error")
        ctx.addIssue({
          code: "custom",
          path: at("onError", "steps", j),
          message: `handler "${h}" must have trigger "on_error"`,
        });
    });
    if (s.onError?.mode === "compensate" && !s.onError.steps?.length)
      ctx.addIssue({
        code: "custom",
        path: at("onError", "steps"),
        message: "compensate needs at least one handler step",
      });

    const hostAction = HOST_ACTIONS.includes(s.action.kind);
    if (hostAction && !s.targets?.length)
      ctx.addIssue({
        code: "custom",
        path: at("targets"),
        message: `a ${s.action.kind} step needs target hosts`,
      });
    if (s.action.kind === "net" && s.action.check === "tcp" && s.action.port === null)
      ctx.addIssue({ code: "custom", path: at("action", "port"), message: "a tcp check needs a port" });

    const texts = [...actionTexts(s.action), ...(s.targets ?? [])];
    for (const ph of texts.flatMap(placeholders)) {
      const [root, name, field] = ph.split(".");
      if (root === "params") {
        if (!name || !params.has(name))
          ctx.addIssue({ code: "custom", path: at("action"), message: `unknown parameter in {{${ph}}}` });
      } else if (root === "steps") {
        if (!name || !ids.has(name))
          ctx.addIssue({ code: "custom", path: at("action"), message: `unknown step in {{${ph}}}` });
        else if (!s.dependsOn.includes(name))
          ctx.addIssue({
            code: "custom",
            path: at("action"),
            message: `{{${ph}}} reads step "${name}", which must be in dependsOn`,
          });
        if (field !== "stdout" && field !== "exitCode")
          ctx.addIssue({
            code: "custom",
            path: at("action"),
            message: `{{${ph}}}: only .stdout and .exitCode can be read`,
          });
      } else if (root !== "host") {
        ctx.addIssue({ code: "custom", path: at("action"), message: `unknown placeholder {{${ph}}}` });
      }
    }
  });

  const cycle = findCycle(plan.steps);
  if (cycle)
    ctx.addIssue({ code: "custom", path: ["steps"], message: `dependency cycle: ${cycle.join(" -> ")}` });
}

function findCycle(steps: readonly { id: string; dependsOn: string[] }[]): string[] | null {
  const deps = new Map(steps.map((s) => [s.id, s.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === "done") return null;
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id];
    state.set(id, "visiting");
    path.push(id);
    for (const d of deps.get(id) ?? []) {
      const c = deps.has(d) ? visit(d) : null;
      if (c) return c;
    }
    path.pop();
    state.set(id, "done");
    return null;
  };
  for (const s of steps) {
    const c = visit(s.id);
    if (c) return c;
  }
  return null;
}

/** Steps in an order where every step follows its dependencies (stable for equal depth). */
export function topologicalOrder(plan: Plan): Step[] {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const done = new Set<string>();
  const out: Step[] = [];
  const visit = (s: Step) => {
    if (done.has(s.id)) return;
    done.add(s.id);
    for (const d of s.dependsOn) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    out.push(s);
  };
  plan.steps.forEach(visit);
  return out;
}
