/**
 * The wire between the in-isolate runtime and the host runner. Everything crossing it is a
 * JSON string: the guest never holds an isolated-vm Reference or ExternalCopy.
 *
 * guest → host: one `ivm.Callback` (GLOBALS.send) carrying a GuestMessage.
 * host → guest: the host keeps a Reference to the runtime's `deliver` function (never exposed
 *   to flow code) and calls it with the reply to a call. An async Callback cannot carry the
 *   host's Promise back (isolated-vm copies its return value synchronously), hence the pair.
 *
 * Imported by both sides: keep it free of runtime dependencies (type-only imports are erased).
 */
import type { AnyCall } from "../src/capabilities/calls";

/** Globals the runner and runtime use to find each other. The runtime deletes them once read. */
export const GLOBALS = {
  send: "__intentflowSend",
  deliver: "__intentflowDeliver",
  start: "__intentflowStart",
  /** The SDK object the bundled virtual module "intentflow:sdk" reads its exports from. */
  sdk: "__intentflowSdk",
  /** The esbuild global name of the bundle; its `default` is the flow. */
  flow: "__intentflowFlow",
} as const;

export const RUNTIME_FILENAME = "intentflow-runtime.js";
export const BUNDLE_FILENAME = "flow.js";
export const SOURCE_FILENAME = "flow.ts";

/** Value exports of "intentflow:sdk" (types are erased by the bundler). Must match sdk.d.ts. */
export const SDK_VALUE_EXPORTS = [
  "anyFailed",
  "defineFlow",
  "fail",
  "forEachHost",
  "holds",
  "http",
  "log",
  "net",
  "notify",
  "once",
  "parallel",
  "poll",
  "powershell",
  "ps",
  "requireSuccess",
  "resultOn",
  "settle",
  "settleAll",
  "sh",
  "skip",
  "sleep",
  "ssh",
  "step",
  "uri",
] as const;
export type SdkValueExport = (typeof SDK_VALUE_EXPORTS)[number];

/** Which step a capability call belongs to; the runner turns it into the journal key. */
export type WireScope = {
  /** null for a call made outside any step. */
  stepId: string | null;
  host: string | null;
  /** How many times this (stepId, host) step has been entered in the run, from 1. */
  occurrence: number;
  attempt: number;
  /** Call number within this step attempt (or within the flow, outside steps), from 1. */
  seq: number;
};

/** A capability call exactly as src/capabilities/calls.ts defines it (the host re-validates it). */
export type WireCall = AnyCall;

export type WireStepStatus = "succeeded" | "failed" | "skipped" | "timed_out" | "cancelled";

export type WireEvent =
  | { type: "step.started"; stepId: string; host: string | null; attempt: number }
  | {
      type: "step.finished";
      stepId: string;
      host: string | null;
      status: WireStepStatus;
      attempts: number;
      exitCode: number | null;
      stdout: string;
      stderr: string;
      error: string | null;
    }
  | {
      type: "log";
      level: "info" | "warn" | "error";
      message: string;
      stepId: string | null;
      host: string | null;
    };

export type GuestMessage =
  ({ kind: "call"; id: number; scope: WireScope } & WireCall) | { kind: "event"; event: WireEvent };

export type WireError = { code: string; message: string };
export type WireReply = { ok: true; value: unknown } | { ok: false; error: WireError };

export type WireStartResult =
  { ok: true } | { ok: false; error: { name: string; message: string; stack: string | null } };
