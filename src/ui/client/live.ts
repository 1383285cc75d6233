/// <reference lib="dom" />
import { api, streamEvents } from "./api";
import type { LogRow, RunDetail, StepRow } from "./types";

/** Keeps a run's detail current from its event stream, reconnecting a few times if it drops early. */

export const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);

export type LiveHooks = { changed: () => void; say: (text: string) => void; signal: AbortSignal };

/** Applies one event to the run's detail, as GET /v1/runs/{id} would show it. */
export function applyEvent(d: RunDetail, event: string, data: unknown): void {
  const x = data as Record<string, unknown>;
  if (event === "run.status" || event === "run.finished") Object.assign(d.run, x, { id: d.run.id });
  else if (event === "step.started" || event === "step.finished") {
    const row = x as unknown as StepRow;
    const i = d.steps.findIndex((s) => s.stepId === row.stepId && s.host === row.host);
    if (i >= 0) d.steps[i] = row;
    else d.steps.push(row);
  } else if (event === "log" && !d.logs.some((l) => l.seq === (x as unknown as LogRow).seq))
    d.logs.push(x as unknown as LogRow);
}

export async function followRun(d: RunDetail, hooks: LiveHooks, attempt = 0): Promise<void> {
  const { changed, say, signal } = hooks;
  say("Live: following the run…");
  let failure: Error | undefined;
  await streamEvents(
    d.run.id,
    (event, data) => {
      applyEvent(d, event, data);
      if (event === "run.finished") say(`Finished: ${d.run.status}.`);
      changed();
    },
    signal,
  ).catch((e: Error) => (failure = e));
  if (signal.aborted) return;
  const fresh = await api.run(d.run.id).catch(() => undefined);
  if (fresh) Object.assign(d, fresh);
  changed();
  if (FINAL.has(d.run.status)) return;
  if (attempt >= 5)
    return say(`Live updates stopped${failure ? `: ${failure.message}` : ""}. Reload to try again.`);
  say("Reconnecting…");
  await new Promise((r) => setTimeout(r, 1000));
  if (!signal.aborted) return followRun(d, hooks, attempt + 1);
}
