import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { RunRecord, StepResultRecord, Store } from "../store/types";

/**
 * Server-Sent Events for one run, read from the store rather than from an in-process bus:
 * the run may execute in another worker process, and the store is what they share. Each poll
 * sends what changed: the run's status, step × host results, and log lines after the last seq.
 * The stream ends after the run's final status.
 */

const FINAL = new Set<RunRecord["status"]>(["succeeded", "failed", "cancelled", "timed_out"]);
const POLL_MS = 150;
const HEARTBEAT_MS = 15_000;

const stepKey = (s: StepResultRecord) => `${s.stepId}|${s.host}`;
const stepSignature = (s: StepResultRecord) => `${s.status}|${s.attempts}|${s.finishedAt ?? ""}`;

export function runEventStream(c: Context, store: Store, runId: string, pollMs = POLL_MS): Response {
  return streamSSE(c, async (stream) => {
    let closed = false;
    stream.onAbort(() => {
      closed = true;
    });
    let lastStatus: string | null = null;
    let lastSeq = 0;
    let lastBeat = Date.now();
    const seen = new Map<string, string>();
    let id = 0;
    const send = (event: string, data: unknown) =>
      stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) });

    while (!closed) {
      const run = await store.getRun(runId);
      if (!run) break;
      if (run.status !== lastStatus) {
        lastStatus = run.status;
        await send("run.status", { id: run.id, status: run.status, error: run.error });
      }
      for (const s of await store.stepResults(runId)) {
        const sig = stepSignature(s);
        if (seen.get(stepKey(s)) === sig) continue;
        const event = s.status === "running" || s.status === "pending" ? "step.started" : "step.finished";
        seen.set(stepKey(s), sig);
        await send(event, s);
      }
      for (const log of await store.logs(runId)) {
        if (log.seq <= lastSeq) continue;
        lastSeq = log.seq;
        await send("log", log);
      }
      if (FINAL.has(run.status)) {
        await send("run.finished", {
          id: run.id,
          status: run.status,
          error: run.error,
          finishedAt: run.finishedAt,
        });
        break;
      }
      if (Date.now() - lastBeat > HEARTBEAT_MS) {
        lastBeat = Date.now();
        await stream.write(": keep-alive\n\n");
      }
      await stream.sleep(pollMs);
    }
  });
}
