/** Messages between the parent (src/sandbox/pool.ts) and a sandbox worker process (worker.ts). */
import type { CapabilityCall, FlowEvent, RunFlowResult, RunLimits } from "./types";

export type WorkerRun = {
  runId: number;
  bundle: string;
  sourceMap: string | null;
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
