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
  limits: { memoryMb: number; timeoutMs: number };
  signal?: AbortSignal;
};

export type RunFlowStatus = "succeeded" | "failed" | "timed_out" | "memory_limit" | "cancelled";

export type RunFlowResult = {
  status: RunFlowStatus;
  /** For a runtime error, ends with the TypeScript position: "(flow.ts:12:5)". */
  error: string | null;
};
