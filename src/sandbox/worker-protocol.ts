/** Messages between the parent (src/sandbox/pool.ts) and a sandbox worker process (worker.ts). */
import type { CapabilityCall, FlowEvent, RunFlowResult, RunLimits } from "./types";

/**
 * A bundle (with its source map) travels to a worker once: later runs of it name it by id.
 * The parent decides what the worker keeps (`forget`), so both sides agree without asking.
 */
export type WireBundle = {
  id: number;
  code?: { bundle: string; sourceMap: string | null };
  forget?: number[];
};

export type WorkerRun = {
  runId: number;
  bundle: WireBundle;
  params: Record<string, unknown>;
  allowedHosts: readonly string[];
  limits: RunLimits;
};

export type ToWorker =
  | { type: "init"; runtime: string; prewarmMb: number }
  | ({ type: "run" } & WorkerRun)
  | { type: "cancel"; runId: number }
  | {
      type: "reply";
      runId: number;
      callId: number;
      ok: boolean;
      value?: unknown;
      error?: { code: string; message: string };
    };

export type WireCallContext = { key: string; stepId: string | null; host: string | null; attempt: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "call"; runId: number; callId: number; call: CapabilityCall; ctx: WireCallContext }
  | { type: "event"; runId: number; event: FlowEvent }
  | { type: "done"; runId: number; result: RunFlowResult };

/**
 * What one IPC write from a worker carries: a message, or several in the order they were
 * made (worker.ts queues step events and sends them with the next call, the run's end, or
 * at the end of the event-loop turn, whichever comes first).
 */
export type FromWorkerWire = FromWorker | { type: "batch"; messages: FromWorker[] };
