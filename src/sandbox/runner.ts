/**
 * runFlow: runs one bundled flow in the sandbox. By default in a supervised worker process
 * (src/sandbox/pool.ts), so that a V8 abort cannot take this process down; capability calls
 * come back to this process, where credentials live. `isolation: "in-process"` runs the
 * isolate here (src/sandbox/isolate-run.ts). Limits are in src/sandbox/limits.ts.
 */
import { runInIsolate } from "./isolate-run";
import { SandboxPool } from "./pool";
import type { RunFlowOptions, RunFlowResult } from "./types";

export { type SandboxStatus, sandboxAvailable, sandboxStatus } from "./availability";
export { DEFAULT_LIMITS } from "./limits";
export { SandboxPool } from "./pool";
export type {
  CallContext,
  CapabilityCall,
  FlowEvent,
  LimitKind,
  LogLevel,
  RunFlowOptions,
  RunFlowResult,
  RunFlowStatus,
  RunLimits,
} from "./types";

let shared: SandboxPool | null = null;

/** The process's pool of sandbox workers, started on first use. */
export function sandboxPool(): SandboxPool {
  shared ??= new SandboxPool();
  return shared;
}

export function runFlow(options: RunFlowOptions): Promise<RunFlowResult> {
  if (options.isolation === "in-process") return runInIsolate(options);
  return sandboxPool().run(options);
}
