import { type Issue, issuesFromZod, PlanInputError } from "./issues";
import { type Action, Plan, STEP_ID, type Step } from "./schema";

/**
 * Import of the legacy workflow format (OpsConductor's JSON `steps`) into a Plan:
 *
 *   { "name"?, "description"?, "steps": [ { "id", "name", "type": "ssh"|"powershell"|"network_analysis",
 *     "host", "command"?, "script"?, "target"?, "analysis_type"?, "port"?, "timeout"? (seconds),
 *     "credentials"? } ] }
 *
 * Also accepted as the envelope the old AI Brain submitted: `{ "workflow_definition": { … } }`.
 *
 * Rules, and where we are lenient:
 * - Steps run one after another, as the legacy engine ran them: each depends on the one before.
 * - Ids are made to fit the Plan's STEP_ID (lower_snake_case, unique); a missing id becomes
 *   `step_N`, a missing name the id. Every change is reported as a warning.
 * - `ssh` runs `command`; `powershell` runs `script` (or `command`, which old generators used).
 * - `network_analysis` checks `target` (default: `host`) from the intentflow service, so `host`
 *   is otherwise unused. `analysis_type` (case and `-`/space insensitive):
 *   ping | icmp | reachability | connectivity → ping; dns | dns_lookup | nslookup | resolve | dig →
 *   dns; tcp | port | port_check | tcp_connect | connect → tcp, whose port comes from `port` or
 *   a `target` written `name:port`. Missing: tcp when a port is given, else ping (with a warning).
 * - `timeout` is seconds (number or numeric string), clamped to the Plan's 0.1 s … 24 h.
 * - Over-long `name`/`description` are cut (warning); over-long commands are an error: a
 *   command is never altered.
 * - `credentials` is never copied: secrets never enter plans. Dropping it is a warning;
 *   intentflow takes credentials from its inventory.
 * - Unknown keys are ignored with a warning. `null` counts as absent.
 */

export type LegacyImport = { plan: Plan; warnings: string[] };

const MAX_STEPS = 200;
const MAX_WARNINGS = 50;
const STEP_KEYS = new Set([
  "id",
  "name",
  "description",
  "type",
  "host",
  "command",
  "script",
  "target",
  "analysis_type",
  "port",
  "timeout",
  "credentials",
]);
const WORKFLOW_KEYS = new Set(["name", "description", "steps", "workflow_definition"]);

const ANALYSIS_TYPES: Record<string, "ping" | "dns" | "tcp"> = {
  ping: "ping",
  icmp: "ping",
  ping_test: "ping",
  reachability: "ping",
  connectivity: "ping",
  dns: "dns",
  dns_lookup: "dns",
  dns_resolution: "dns",
  nslookup: "dns",
  resolve: "dns",
  dig: "dns",
  tcp: "tcp",
  port: "tcp",
  port_check: "tcp",
  tcp_port: "tcp",
  tcp_connect: "tcp",
  connect: "tcp",
};

/** A legacy workflow is recognised by steps that carry a `type` and no Plan `action`. */
export function looksLikeLegacyWorkflow(body: Record<string, unknown>): boolean {
  if (isRecord(body.workflow_definition)) return true;
  if (!Array.isArray(body.steps)) return false;
  const first: unknown = body.steps[0];
  return isRecord(first) && "type" in first && !("action" in first);
}

/** Converts a legacy workflow body into a Plan; throws PlanInputError naming each field at fault. */
export function importLegacyWorkflow(body: Record<string, unknown>): LegacyImport {
  const reader = new LegacyReader();
  const workflow = isRecord(body.workflow_definition) ? body.workflow_definition : body;
  const at = workflow === body ? "" : "workflow_definition.";
  const plan = reader.workflow(workflow, at);
  if (reader.issues.length) throw new PlanInputError(reader.issues, "legacy workflow");
  const parsed = Plan.safeParse(plan);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error).map((i) => ({ ...i, path: at + toLegacyPath(i.path, plan) }));
    throw new PlanInputError(issues, "legacy workflow");
  }
  return { plan: parsed.data, warnings: reader.warnings };
}

/** Reads one workflow, collecting every issue rather than stopping at the first. */
class LegacyReader {
  readonly issues: Issue[] = [];
  readonly warnings: string[] = [];
  private readonly ids = new Set<string>();

  workflow(
    w: Record<string, unknown>,
    at: string,
  ): { title: string; intent: string; params: []; steps: Step[] } | null {
    for (const key of Object.keys(w))
      if (!WORKFLOW_KEYS.has(key)) this.warn(`${at}${key}: ignored (not part of the legacy workflow format)`);
    const steps = w.steps;
    if (!Array.isArray(steps) || steps.length === 0) {
      this.fail(`${at}steps`, "expected a non-empty array of steps");
      return null;
    }
    if (steps.length > MAX_STEPS) {
      this.fail(`${at}steps`, `at most ${MAX_STEPS} steps, got ${steps.length}`);
      return null;
    }
    const name = this.optionalText(w.name, `${at}name`, 200);
    const description = this.optionalText(w.description, `${at}description`, 4000);
    const planSteps: Step[] = [];
    steps.forEach((raw: unknown, i) => {
      const step = this.step(raw, `${at}steps[${i}]`, i, planSteps.at(-1)?.id);
      if (step) planSteps.push(step);
    });
    return {
      title: name ?? "Imported workflow",
      intent: description ?? name ?? `Imported legacy workflow (${steps.length} steps)`,
      params: [],
      steps: planSteps,
    };
  }

  private step(raw: unknown, at: string, index: number, previous: string | undefined): Step | null {
    if (!isRecord(raw)) {
      this.fail(at, `expected a step object, got ${kindOf(raw)}`);
      return null;
    }
    for (const key of Object.keys(raw))
      if (!STEP_KEYS.has(key)) this.warn(`${at}.${key}: ignored (not part of the legacy step format)`);
    if (raw.credentials !== undefined && raw.credentials !== null)
      this.warn(
        `${at}.credentials: dropped; secrets never enter plans, credentials come from the intentflow inventory`,
      );
    const id = this.stepId(raw.id, `${at}.id`, index);
    const targets = this.targets(raw, at);
    const action = this.action(raw, at);
    const timeoutMs = this.timeout(raw.timeout, `${at}.timeout`);
    const name = this.optionalText(raw.name, `${at}.name`, 200) ?? id;
    const description = this.optionalText(raw.description, `${at}.description`, 1000);
    if (!action || !targets) return null;
    return {
      id,
      name,
      description,
      action,
      targets,
      dependsOn: previous ? [previous] : [],
      when: null,
      until: null,
      retry: null,
      timeoutMs,
      concurrency: null,
      onError: null,
      trigger: "normal",
    };
  }

  private stepId(raw: unknown, at: string, index: number): string {
    let wanted = `step_${index + 1}`;
    if (typeof raw === "string" || typeof raw === "number") wanted = String(raw).slice(0, 200);
    else if (raw !== undefined && raw !== null) this.fail(at, `expected a string, got ${kindOf(raw)}`);
    else this.warn(`${at}: missing; using "${wanted}"`);
    const id = uniqueId(toStepId(wanted, index), this.ids);
    this.ids.add(id);
    if (id !== wanted && raw !== undefined && raw !== null)
      this.warn(`${at}: "${wanted}" imported as "${id}" (ids are lower_snake_case and unique)`);
    return id;
  }

  /**
   * Where the step acts. A network check runs from the intentflow service and checks its
   * `target` (without any `:port`), falling back to `host`; every other step runs on `host`.
   */
  private targets(raw: Record<string, unknown>, at: string): string[] | null {
    const hasTarget = raw.target !== undefined && raw.target !== null;
    if (raw.type !== "network_analysis" || !hasTarget) return this.hosts(raw.host, `${at}.host`);
    if (raw.host !== undefined && raw.host !== null)
      this.warn(`${at}.host: unused; network checks run from the intentflow service against the target`);
    const target = typeof raw.target === "string" ? raw.target.replace(/:\d{1,5}$/, "") : "";
    if (HOST_SELECTOR.test(target)) return [target];
    this.fail(`${at}.target`, "expected an inventory host name, optionally with :port");
    return null;
  }

  private hosts(raw: unknown, at: string): string[] | null {
    const list = typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(list) || list.length === 0 || list.length > 500) {
      this.fail(at, raw === undefined || raw === null ? "required" : "expected a host name");
      return null;
    }
    const ok = list.every((h) => typeof h === "string" && HOST_SELECTOR.test(h));
    if (!ok) this.fail(at, "expected inventory host names (letters, digits, . _ - : [ ])");
    return ok ? (list as string[]) : null;
  }

  private action(raw: Record<string, unknown>, at: string): Action | null {
    switch (raw.type) {
      case "ssh": {
        const command = this.requiredText(raw.command, `${at}.command`, 4000, "an ssh step");
        return command ? { kind: "ssh", command } : null;
      }
      case "powershell": {
        const field = raw.script ?? raw.command;
        const path = raw.script != null || raw.command == null ? `${at}.script` : `${at}.command`;
        const script = this.requiredText(field, path, 8000, "a powershell step");
        return script ? { kind: "powershell", script } : null;
      }
      case "network_analysis":
        return this.netAction(raw, at);
      default:
        this.fail(
          `${at}.type`,
          raw.type === undefined || raw.type === null
            ? 'required: one of "ssh", "powershell", "network_analysis"'
            : `expected one of "ssh", "powershell", "network_analysis", got ${display(raw.type)}`,
        );
        return null;
    }
  }

  private netAction(raw: Record<string, unknown>, at: string): Action | null {
    const port = this.port(raw, at);
    const given = raw.analysis_type;
    let check: "ping" | "dns" | "tcp" | undefined;
    if (given === undefined || given === null) {
      check = port === undefined ? "ping" : "tcp";
      this.warn(`${at}.analysis_type: missing; using "${check}"`);
    } else if (typeof given === "string") {
      check =
        ANALYSIS_TYPES[
          given
            .trim()
            .toLowerCase()
            .replace(/[\s-]+/g, "_")
        ];
      if (!check)
        this.fail(
          `${at}.analysis_type`,
          `${display(given)} is not supported; use one of ${Object.keys(ANALYSIS_TYPES).join(", ")}`,
        );
    } else this.fail(`${at}.analysis_type`, `expected a string, got ${kindOf(given)}`);
    if (check === "tcp" && port === undefined) {
      this.fail(`${at}.port`, 'a tcp check needs a port ("port": 443, or "target": "name:443")');
      return null;
    }
    return check ? { kind: "net", check, port: check === "tcp" ? (port ?? null) : null } : null;
  }

  private port(raw: Record<string, unknown>, at: string): number | undefined {
    const fromTarget = typeof raw.target === "string" ? /:(\d{1,5})$/.exec(raw.target)?.[1] : undefined;
    const given = raw.port ?? fromTarget;
    if (given === undefined || given === null) return undefined;
    const port = Number(given);
    if ((typeof given === "number" || typeof given === "string") && Number.isInteger(port) && port >= 1)
      if (port <= 65535) return port;
    this.fail(`${at}.port`, `expected a port number 1-65535, got ${display(given)}`);
    return undefined;
  }

  private timeout(raw: unknown, at: string): number | null {
    if (raw === undefined || raw === null) return null;
    const seconds = typeof raw === "number" || typeof raw === "string" ? Number(raw) : Number.NaN;
    if (!Number.isFinite(seconds) || seconds <= 0 || (typeof raw === "string" && raw.trim() === "")) {
      this.fail(at, `expected a positive number of seconds, got ${display(raw)}`);
      return null;
    }
    const ms = Math.round(seconds * 1000);
    const clamped = Math.min(86_400_000, Math.max(100, ms));
    if (clamped !== ms) this.warn(`${at}: ${seconds} s is outside 0.1 s … 24 h; using ${clamped / 1000} s`);
    return clamped;
  }

  private requiredText(raw: unknown, at: string, max: number, what: string): string | null {
    if (typeof raw !== "string" || raw.trim() === "") {
      this.fail(
        at,
        raw === undefined || raw === null ? `required for ${what}` : "expected a non-empty string",
      );
      return null;
    }
    if (raw.length > max) {
      this.fail(at, `longer than ${max} characters (${raw.length}); commands are never cut`);
      return null;
    }
    return raw;
  }

  private optionalText(raw: unknown, at: string, max: number): string | null {
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== "string") {
      this.fail(at, `expected a string, got ${kindOf(raw)}`);
      return null;
    }
    const text = raw.trim();
    if (!text) return null;
    if (text.length <= max) return text;
    this.warn(`${at}: cut to ${max} characters`);
    return text.slice(0, max);
  }

  private fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Kept to a readable number: a body with a million unknown keys gets a summary, not a million lines. */
  private warn(message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(message);
    else if (this.warnings.length === MAX_WARNINGS) this.warnings.push("… and more warnings, not listed");
  }
}

/** Host names and selectors as the inventory writes them: no spaces, quotes or shell syntax. */
const HOST_SELECTOR = /^[A-Za-z0-9][A-Za-z0-9._:@[\]-]{0,199}$/;

/** Any legacy id → lower_snake_case that starts with a letter and fits STEP_ID. */
export function toStepId(raw: string, index: number): string {
  const snake = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
  const id = (/^[a-z]/.test(snake) ? snake : `step_${snake || index + 1}`).slice(0, 48).replace(/_$/, "");
  return STEP_ID.test(id) ? id : `step_${index + 1}`;
}

/** `id`, or `id_2`, `id_3`, … (cut to fit) when taken. */
export function uniqueId(id: string, taken: ReadonlySet<string>): string {
  if (!taken.has(id)) return id;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = id.slice(0, 48 - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Plan paths (steps[2].action.command) back to the legacy fields the caller wrote. */
function toLegacyPath(path: string, plan: { steps: { action: Action }[] } | null): string {
  const m = /^steps\[(\d+)\]\.(action|targets)/.exec(path);
  if (!m) return path.replace(/^title$/, "name").replace(/^intent$/, "description");
  const kind = plan?.steps[Number(m[1])]?.action.kind;
  const field =
    m[2] === "targets"
      ? "host"
      : kind === "net"
        ? "analysis_type"
        : kind === "powershell"
          ? "script"
          : "command";
  return `steps[${m[1]}].${field}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** A short, safe rendering of a value for an error message (never the whole of a huge string). */
function display(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return kindOf(v);
}
