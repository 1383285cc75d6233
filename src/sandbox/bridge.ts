/**
 * The host end of the bridge. Every message from the isolate is parsed and validated here
 * (zod); calls to hosts outside the run's allowed set are refused before the caller's
 * capability sees them. Refusals and capability errors go back into the flow as errors, so
 * the step records them. This class never throws into the isolate.
 */
import type ivm from "isolated-vm";
import { z } from "zod";
import type { WireError, WireReply, WireScope } from "../../sandbox/protocol";
import type { CallContext, CapabilityCall, FlowEvent, RunFlowOptions } from "./types";

const IDENTITY = z.string().regex(/^[^|#\n]{1,200}$/);
const MAX_LOG = 10_000;

const Scope = z.object({
  stepId: IDENTITY.nullable(),
  host: IDENTITY.nullable(),
  occurrence: z.number().int().min(1),
  attempt: z.number().int().min(0).max(20),
  seq: z.number().int().min(1),
});

const CallMessage = z.union([
  z.object({
    kind: z.literal("call"),
    id: z.number().int().min(1),
    scope: Scope,
    name: z.literal("ssh.exec"),
    args: z.object({
      host: z.string().min(1).max(255),
      command: z.string().min(1).max(100_000),
      timeoutMs: z.number().int().min(1).max(86_400_000).nullable(),
    }),
  }),
  z.object({
    kind: z.literal("call"),
    id: z.number().int().min(1),
    scope: Scope,
    name: z.literal("sleep"),
    args: z.object({ ms: z.number().int().min(0).max(86_400_000) }),
  }),
]);

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
    stdout: z.string(),
    stderr: z.string(),
    error: z.string().nullable(),
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["info", "warn", "error"]),
    message: z.string().transform((m) => (m.length > MAX_LOG ? `${m.slice(0, MAX_LOG)}… (cut)` : m)),
    stepId: IDENTITY.nullable(),
    host: IDENTITY.nullable(),
  }),
]);

const EventMessage = z.object({ kind: z.literal("event"), event: Event });

/** What ssh.exec gives the flow: only these fields, whatever the capability returned. */
const ExecResult = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable().default(null),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().default(false),
});

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

export class HostBridge {
  private deliverRef: Deliver | null = null;
  private readonly allowed: ReadonlySet<string>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Steps started and not finished, by "stepId|host": closed by the runner if the run ends first. */
  readonly openSteps = new Map<string, { stepId: string; host: string | null; attempt: number }>();
  private closed = false;

  constructor(
    private readonly options: Pick<RunFlowOptions, "allowedHosts" | "call" | "onEvent">,
    private readonly signal: AbortSignal,
    private readonly onIsolateError: (error: unknown) => void,
  ) {
    this.allowed = new Set(options.allowedHosts);
  }

  attach(deliver: Deliver): void {
    this.deliverRef = deliver;
  }

  /** The Callback's body: synchronous, never throws. */
  receive(json: unknown): void {
    if (this.closed || typeof json !== "string") return;
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
    this.emit(parsed.data.event);
  }

  private receiveCall(message: unknown): void {
    const id = (message as { id?: unknown }).id;
    if (typeof id !== "number") return;
    const parsed = CallMessage.safeParse(message);
    if (!parsed.success) {
      this.reply(id, {
        ok: false,
        error: { code: "invalid_argument", message: `invalid capability call: ${issues(parsed.error)}` },
      });
      return;
    }
    const { scope, name, args } = parsed.data;
    const call = { name, args } as CapabilityCall;
    if (call.name === "ssh.exec" && !this.allowed.has(call.args.host)) {
      this.reply(id, {
        ok: false,
        error: {
          code: "denied",
          message: `host "${call.args.host}" is not among the hosts this run may reach`,
        },
      });
      return;
    }
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
    try {
      const value = await this.options.call(call, ctx);
      if (call.name === "sleep") return { ok: true, value: null };
      const result = ExecResult.safeParse(value);
      if (!result.success)
        return {
          ok: false,
          error: {
            code: "failed",
            message: `ssh.exec returned an unexpected result: ${issues(result.error)}`,
          },
        };
      return { ok: true, value: result.data };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    }
  }

  private reply(id: number, reply: WireReply): void {
    if (this.closed || !this.deliverRef) return;
    this.deliverRef
      .apply(undefined, [id, JSON.stringify(reply)])
      .catch((e: unknown) => this.onIsolateError(e));
  }
}
