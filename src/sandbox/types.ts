/** The runner's contract with the engine that calls it. */
import type { AnyCall } from "../capabilities/calls";
import type { StepStatus } from "../store/types";

/**
 * A capability the flow asked for, validated against src/capabilities/calls.ts (CALL_ARGS);
 * the caller performs it. Host calls reach `call` only for hosts in `allowedHosts`.
 */
export type CapabilityCall = AnyCall;

export type CallContext = {
  /**
   * Deterministic journal key, identical in a replay of the same run:
   * `${stepId}[#occurrence]|${host or "-"}|${attempt}|${seq}`, or `flow|-|0|${seq}` for a call
   * made outside any step.
   */
  key: string;
  stepId: string | null;
  host: string | null;
  attempt: number;
  /** Aborted when the run ends (finished, timed out, cancelled, out of memory). */
  signal: AbortSignal;
};

export type LogLevel = "info" | "warn" | "error";

export type FlowEvent =
  | { type: "step.started"; stepId: string; host: string | null; attempt: number }
  | {
      type: "step.finished";
      stepId: string;
      host: string | null;
      status: StepStatus;
      attempts: number;
      exitCode: number | null;
      stdout: string;
      stderr: string;
      error: string | null;
    }
  | { type: "log"; level: LogLevel; message: string; stepId: string | null; host: string | null };

export type RunFlowOptions = {
  bundle: string;
  sourceMap?: string | null;
  params: Record<string, unknown>;
  /** Hosts this run may reach; any other host is refused before `call` sees it. */
  allowedHosts: readonly string[];
  call: (call: CapabilityCall, ctx: CallContext) => Promise<unknown>;
  onEvent: (event: FlowEvent) => void;
  limits: RunLimits;
  signal?: AbortSignal;
  /**
   * "process" (the default): the isolate runs in a supervised worker process, so a V8 abort
   * fails only the runs of that worker. "in-process": in this process (tests, tools).
   */
  isolation?: "process" | "in-process";
};

/** Per-run limits; the optional ones default to DEFAULT_LIMITS (src/sandbox/limits.ts). */
export type RunLimits = {
  /** The isolate's heap (MB, at least 8). */
  memoryMb: number;
  /** Wall clock for the whole run, awaited capability calls included. */
  timeoutMs: number;
  /** CPU time the flow's own code may use (ms). */
  cpuMs?: number;
  /** Capability calls the run may make. */
  maxCalls?: number;
  /** Bytes of capability results delivered into the flow, and of any one message out of it. */
  maxOutputBytes?: number;
  /** Bytes of logs and step output the run may emit. */
  maxLogBytes?: number;
};

/** Which limit ended a run. */
export type LimitKind =
  "memory_limit" | "cpu_limit" | "timeout" | "call_limit" | "output_limit" | "log_limit";

export type RunFlowStatus = "succeeded" | "failed" | "timed_out" | "memory_limit" | "cancelled";

export type RunFlowResult = {
  status: RunFlowStatus;
  /** For a runtime error, ends with the TypeScript position: "(flow.ts:12:5)". */
  error: string | null;
  /**
   * Set when a limit ended the run. The status stays one of RunFlowStatus (memory_limit for
   * memory, timed_out for wall clock and CPU time, failed for calls, output and logs).
   */
  limit?: LimitKind;
};
