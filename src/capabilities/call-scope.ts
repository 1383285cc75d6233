import { CapabilityError } from "./types";

/**
 * One exec call's lifetime: aborted by its deadline ("timeout") or by the caller's signal
 * ("cancelled"), whichever comes first. Everything the call waits on (a pool slot, a
 * connection, the remote command) listens to this one signal, so the bound holds end to end.
 */
export type CallScope = { signal: AbortSignal; dispose(): void };

export function callScope(what: string, timeoutMs: number, upstream?: AbortSignal): CallScope {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new CapabilityError("timeout", `${what} timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onCancel = () => controller.abort(new CapabilityError("cancelled", `${what} was cancelled`));
  if (upstream?.aborted) onCancel();
  else upstream?.addEventListener("abort", onCancel, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      upstream?.removeEventListener("abort", onCancel);
    },
  };
}

/** The CapabilityError an aborted scope carries. */
export function abortReason(signal: AbortSignal): CapabilityError {
  const reason: unknown = signal.reason;
  return reason instanceof CapabilityError ? reason : new CapabilityError("cancelled", "cancelled");
}
