import { CapabilityError } from "./types";

/**
 * Notifications. The executor always records one in the run's log; with a webhook configured
 * it is also POSTed there as `{ channel, message, runId }` JSON (Slack-style receivers take
 * `text` too). A webhook failure fails the call, so a flow can retry or report it.
 */

export type NotifyContext = { runId: string; stepId: string | null };

export interface NotifyCapability {
  send(channel: string, message: string, context: NotifyContext, signal?: AbortSignal): Promise<void>;
}

export function createNotifyCapability(options: {
  webhookUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): NotifyCapability {
  const doFetch = options.fetch ?? fetch;
  return {
    async send(channel, message, context, signal) {
      if (!options.webhookUrl) return;
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
      const res = await doFetch(options.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel, message, text: `[${channel}] ${message}`, ...context }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      }).catch((e: unknown) => {
        throw new CapabilityError("failed", `notification webhook failed: ${(e as Error).message}`);
      });
      await res.body?.cancel();
      if (!res.ok) throw new CapabilityError("failed", `notification webhook answered ${res.status}`);
    },
  };
}
