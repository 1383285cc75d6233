/**
 * The host end of the bridge. Every message from the isolate is parsed and validated here
 * (zod); calls to hosts outside the run's allowed set are refused before the caller's
 * capability sees them. Refusals and capability errors go back into the flow as errors, so
 * the step records them. This class never throws into the isolate.
 */
import type ivm from "isolated-vm";
import { z } from "zod";
import { type CallName, HOST_CALLS, parseCall } from "../capabilities/calls";
import type { WireError, WireReply, WireScope } from "../../sandbox/protocol";
import type { ResolvedLimits } from "./limits";
import type { CallContext, CapabilityCall, FlowEvent, LimitKind, RunFlowOptions } from "./types";

const IDENTITY = z.string().regex(/^[^|#\n]{1,200}$/);
const MAX_LOG = 10_000;
/** Step output kept per event; the capability already caps what it returns. */
const MAX_EVENT_TEXT = 64 * 1024;
const cut = (max: number) => (m: string) => (m.length > max ? `${m.slice(0, max)}… (cut)` : m);

const Scope = z.object({
  stepId: IDENTITY.nullable(),
  host: IDENTITY.nullable(),
  occurrence: z.number().int().min(1),
  attempt: z.number().int().min(0).max(20),
  seq: z.number().int().min(1),
});

/** The envelope of a call; its name and args are checked by calls.ts's parseCall. */
const CallEnvelope = z.object({
  kind: z.literal("call"),
  id: z.number().int().min(1),
  scope: Scope,
  name: z.string(),
  args: z.unknown(),
});

const Event = z.union([
  z.object({
    type: z.literal("step.started"),
    stepId: IDENTITY,
    host: IDENTITY.nullable(),
    attempt: z.number().int().min(1),
  }),
  z.object({
    type: z.literal("step.finished"),
    stepId: IDENTITY,
    host: IDENTITY.nullable(),
    status: z.enum(["succeeded", "failed", "skipped", "timed_out", "cancelled"]),
    attempts: z.number().int().min(0),
    exitCode: z.number().int().nullable(),
    stdout: z.string().transform(cut(MAX_EVENT_TEXT)),
    stderr: z.string().transform(cut(MAX_EVENT_TEXT)),
    error: z.string().transform(cut(MAX_LOG)).nullable(),
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["info", "warn", "error"]),
    message: z.string().transform(cut(MAX_LOG)),
    stepId: IDENTITY.nullable(),
    host: IDENTITY.nullable(),
  }),
]);

const EventMessage = z.object({ kind: z.literal("event"), event: Event });

const Exec = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable().default(null),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().default(false),
});
const Probe = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().nullable().default(null),
});

/** What each call gives the flow: only these fields, whatever the capability returned. */
const RESULTS: { [N in CallName]: z.ZodType } = {
  "ssh.exec": Exec,
  "powershell.run": Exec.extend({ data: z.json().nullable().default(null) }),
  "http.request": z.object({
    status: z.number().int().min(0).max(999),
    headers: z.array(z.tuple([z.string(), z.string()])),
    body: z.string(),
    truncated: z.boolean().default(false),
  }),
  "net.tcp": Probe,
  "net.dns": z.object({ addresses: z.array(z.string()) }),
  "net.ping": Probe.extend({ method: z.enum(["icmp", "tcp"]) }),
  sleep: z.any().transform(() => null),
  log: z.any().transform(() => null),
  notify: z.any().transform(() => null),
};

/** Slack given to a capability past its own timeout before the bridge stops waiting for it. */
const CALL_SLACK_MS = 5_000;

/**
 * The host side's own deadline for a call: its timeout (or a sleep's length) plus slack, so a
 * capability that ignores its timeout cannot hold a step forever. null: bounded by the run only.
 */
export function callBound(call: CapabilityCall): number | null {
  if (call.name === "sleep") return call.args.ms + CALL_SLACK_MS;
  const timeoutMs = (call.args as { timeoutMs?: number | null }).timeoutMs;
  return typeof timeoutMs === "number" ? timeoutMs + CALL_SLACK_MS : null;
}

/** The host a call must be approved for, or null when it reaches no inventory host. */
export function hostOf(call: CapabilityCall): string | null {
  if (HOST_CALLS.has(call.name)) return (call.args as { host: string }).host;
  if (call.name === "http.request") return call.args.host;
  return null;
}

const ERROR_CODES = new Set([
  "unknown_host",
  "connect_failed",
  "auth_failed",
  "host_key_mismatch",
  "timeout",
  "cancelled",
  "denied",
  "invalid_argument",
  "failed",
]);

export function journalKey(scope: WireScope): string {
  if (scope.stepId === null) return `flow|-|0|${scope.seq}`;
  const id = scope.occurrence > 1 ? `${scope.stepId}#${scope.occurrence}` : scope.stepId;
  return `${id}|${scope.host ?? "-"}|${scope.attempt}|${scope.seq}`;
}

function toWireError(e: unknown): WireError {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return { code: typeof code === "string" && ERROR_CODES.has(code) ? code : "failed", message };
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(message)"}: ${i.message}`).join("; ");
}

type Deliver = ivm.Reference<(id: number, json: string) => void>;

export type BridgeHooks = {
  /** The isolate refused a reply (disposed, out of memory). */
  onIsolateError(error: unknown): void;
  /** The run went over one of its limits: the runner ends it. */
  onLimit(kind: LimitKind, message: string): void;
};

export class HostBridge {
  private deliverRef: Deliver | null = null;
  private readonly allowed: ReadonlySet<string>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Steps started and not finished, by "stepId|host": closed by the runner if the run ends first. */
  readonly openSteps = new Map<string, { stepId: string; host: string | null; attempt: number }>();
  private closed = false;
  private calls = 0;
  private outputBytes = 0;
  private logBytes = 0;

  constructor(
    private readonly options: Pick<RunFlowOptions, "allowedHosts" | "call" | "onEvent">,
    private readonly signal: AbortSignal,
    private readonly hooks: BridgeHooks,
    private readonly limits: ResolvedLimits,
  ) {
    this.allowed = new Set(options.allowedHosts);
  }

  private overLimit(kind: LimitKind, message: string): void {
    this.closed = true;
    this.hooks.onLimit(kind, message);
  }

  attach(deliver: Deliver): void {
    this.deliverRef = deliver;
  }

  /** The Callback's body: synchronous, never throws. */
  receive(json: unknown): void {
    if (this.closed || typeof json !== "string") return;
    if (json.length > this.limits.maxOutputBytes)
      return this.overLimit(
        "output_limit",
        `the flow sent a message of ${json.length} bytes (limit ${this.limits.maxOutputBytes})`,
      );
    let message: unknown;
    try {
      message = JSON.parse(json);
    } catch {
      return;
    }
    const kind = (message as { kind?: unknown } | null)?.kind;
    if (kind === "event") this.receiveEvent(message);
    else if (kind === "call") this.receiveCall(message);
  }

  emit(event: FlowEvent): void {
    if (event.type === "step.started")
      this.openSteps.set(`${event.stepId}|${event.host ?? ""}`, {
        stepId: event.stepId,
        host: event.host,
        attempt: event.attempt,
      });
    else if (event.type === "step.finished") this.openSteps.delete(`${event.stepId}|${event.host ?? ""}`);
    try {
      this.options.onEvent(event);
    } catch {
      // A failing observer must not change the run.
    }
  }

  /** Stops accepting messages and waits (bounded) for calls still running to settle. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (!this.inFlight.size) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
  }

  private receiveEvent(message: unknown): void {
    const parsed = EventMessage.safeParse(message);
    if (!parsed.success) {
      this.emit({
        type: "log",
        level: "warn",
        message: `the flow sent an invalid event: ${issues(parsed.error)}`,
        stepId: null,
        host: null,
      });
      return;
    }
    const event = parsed.data.event;
    this.logBytes +=
      event.type === "log"
        ? event.message.length
        : event.type === "step.finished"
          ? event.stdout.length + event.stderr.length + (event.error?.length ?? 0)
          : 0;
    if (this.logBytes > this.limits.maxLogBytes)
      return this.overLimit("log_limit", `the flow logged more than ${this.limits.maxLogBytes} bytes`);
    this.emit(event);
  }

  private receiveCall(message: unknown): void {
    const id = (message as { id?: unknown }).id;
    if (typeof id !== "number") return;
    if (++this.calls > this.limits.maxCalls)
      return this.overLimit("call_limit", `the flow made more than ${this.limits.maxCalls} capability calls`);
    const refuse = (code: string, text: string) =>
      this.reply(id, { ok: false, error: { code, message: text } });
    const envelope = CallEnvelope.safeParse(message);
    if (!envelope.success)
      return refuse("invalid_argument", `invalid capability call: ${issues(envelope.error)}`);
    const { scope, name, args } = envelope.data;
    let call: CapabilityCall;
    try {
      call = parseCall(name, args);
    } catch (e) {
      const text = e instanceof z.ZodError ? issues(e) : String(e);
      return refuse("invalid_argument", `invalid ${name} call: ${text}`);
    }
    const host = hostOf(call);
    if (host !== null && !this.allowed.has(host))
      return refuse("denied", `host "${host}" is not among the hosts this run may reach`);
    const ctx: CallContext = {
      key: journalKey(scope),
      stepId: scope.stepId,
      host: scope.host,
      attempt: scope.attempt,
      signal: this.signal,
    };
    const running = this.perform(call, ctx).then((reply) => this.reply(id, reply));
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }

  private async perform(call: CapabilityCall, ctx: CallContext): Promise<WireReply> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const bound = callBound(call);
      const pending = this.options.call(call, ctx);
      const value =
        bound === null
          ? await pending
          : await Promise.race([
              pending,
              new Promise<never>((_, reject) => {
                timer = setTimeout(
                  () =>
                    reject(
                      Object.assign(new Error(`${call.name} did not answer within ${bound} ms`), {
                        code: "timeout",
                      }),
                    ),
                  bound,
                );
              }),
            ]);
      const result = RESULTS[call.name].safeParse(value);
      if (!result.success)
        return {
          ok: false,
          error: {
            code: "failed",
            message: `${call.name} returned an unexpected result: ${issues(result.error)}`,
          },
        };
      return { ok: true, value: result.data };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    } finally {
      clearTimeout(timer);
    }
  }

  private reply(id: number, reply: WireReply): void {
    if (this.closed || !this.deliverRef) return;
    const json = JSON.stringify(reply);
    this.outputBytes += json.length;
    if (this.outputBytes > this.limits.maxOutputBytes)
      return this.overLimit(
        "output_limit",
        `capability results came to more than ${this.limits.maxOutputBytes} bytes`,
      );
    this.deliverRef.apply(undefined, [id, json]).catch((e: unknown) => this.hooks.onIsolateError(e));
  }
}
