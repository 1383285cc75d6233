/**
 * A sandbox worker process: runs flows in isolates of its own, so that a V8 abort (out of
 * memory, a crash in the engine) takes down this process only. It holds no credentials and
 * no environment: every capability call is sent to the parent, which validates and performs
 * it (src/sandbox/pool.ts).
 */
import { runInIsolate, prewarm } from "./isolate-run";
import { provideRuntimeScript } from "./runtime-script";
import type { FromWorker, FromWorkerWire, ToWorker, WorkerRun } from "./worker-protocol";

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

const pending = new Map<string, Pending>();
const cancels = new Map<number, AbortController>();
let nextCall = 0;

/**
 * Messages to the parent, in the order they were made. Each IPC message costs a write here and
 * a read and a dispatch in the parent (where capability calls are journaled), so step events
 * wait in `outbox` and go with the next call or run end (sent at once: nothing waits on an
 * event, but the parent waits on those), or at the end of this event-loop turn (setImmediate):
 * an event is never held longer than that. The flow's messages arrive here in bursts (one step
 * finishing, the next starting and making its call), so a sequential step costs one message
 * each way instead of three out and one back.
 */
let outbox: FromWorker[] = [];
let flushQueued = false;

function flush(): void {
  if (!outbox.length) return;
  const messages = outbox;
  outbox = [];
  process.send?.(
    messages.length === 1 ? messages[0]! : ({ type: "batch", messages } satisfies FromWorkerWire),
  );
}

function send(message: FromWorker): void {
  outbox.push(message);
  if (message.type !== "event") flush();
  else if (!flushQueued) {
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      flush();
    });
  }
}

function fromReply(error: { code: string; message: string } | undefined): Error {
  return Object.assign(new Error(error?.message ?? "the capability failed"), {
    code: error?.code ?? "failed",
  });
}

/** Bundles the parent has sent, by id; it says which to forget. */
const bundles = new Map<number, { bundle: string; sourceMap: string | null }>();

async function run(message: WorkerRun): Promise<void> {
  const { runId, bundle: wire } = message;
  if (wire.code) bundles.set(wire.id, wire.code);
  const code = bundles.get(wire.id);
  for (const id of wire.forget ?? []) bundles.delete(id);
  if (!code) {
    send({ type: "done", runId, result: { status: "failed", error: "the sandbox lost the flow's bundle" } });
    return;
  }
  const cancel = new AbortController();
  cancels.set(runId, cancel);
  const result = await runInIsolate({
    ...message,
    ...code,
    isolation: "in-process",
    signal: cancel.signal,
    onEvent: (event) => send({ type: "event", runId, event }),
    call: (call, ctx) =>
      new Promise((resolve, reject) => {
        const callId = ++nextCall;
        pending.set(`${runId}:${callId}`, { resolve, reject });
        send({
          type: "call",
          runId,
          callId,
          call,
          ctx: { key: ctx.key, stepId: ctx.stepId, host: ctx.host, attempt: ctx.attempt },
        });
      }),
  }).catch((e: unknown) => ({
    status: "failed" as const,
    error: `the sandbox failed: ${e instanceof Error ? e.message : String(e)}`,
  }));
  cancels.delete(runId);
  for (const key of [...pending.keys()])
    if (key.startsWith(`${runId}:`)) {
      pending.get(key)?.reject(fromReply({ code: "cancelled", message: "the run ended" }));
      pending.delete(key);
    }
  send({ type: "done", runId, result });
}

process.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "init":
      provideRuntimeScript(message.runtime);
      prewarm(message.prewarmMb);
      send({ type: "ready" });
      return;
    case "run":
      void run(message);
      return;
    case "cancel":
      cancels.get(message.runId)?.abort();
      return;
    case "reply": {
      const key = `${message.runId}:${message.callId}`;
      const waiting = pending.get(key);
      pending.delete(key);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(fromReply(message.error));
    }
  }
});
// The parent went away: nothing left to run for.
process.on("disconnect", () => process.exit(0));
