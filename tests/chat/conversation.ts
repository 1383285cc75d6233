import { expect } from "vitest";
import type { Stack } from "../helpers/stack";

/**
 * The conversation both chat tests hold (offline planner and a replayed LLM): create, refine
 * twice, refused run before approval, approval by a reviewer over REST, run, ask about the run.
 */

export const INTENT = "check nginx on web1 and web2 and restart it where it is down";

export async function say(stack: Stack, sessionId: string | undefined, message: string) {
  const r = await stack.call("POST", "/v1/chat", sessionId ? { sessionId, message } : { message });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export async function holdConversation(stack: Stack) {
  const first = await say(stack, undefined, INTENT);
  expect(first.kind).toBe("planned");
  const { sessionId } = first;
  const flowId = first.flow.id;
  expect(first.flow).toMatchObject({ version: 1, status: "pending" });
  expect(first.reply).toContain(`POST /v1/flows/${flowId}/versions/1/approve`);
  expect(first.route.engine).toBe("flow");

  const second = await say(stack, sessionId, "also check disk");
  expect(second.kind).toBe("refined");
  expect(second.flow).toMatchObject({ id: flowId, version: 2, status: "pending" });
  expect(second.changes.some((c: string) => c.startsWith("added check_disk"))).toBe(true);
  expect(second.plan.steps.map((s: any) => s.id)).toContain("check_disk");
  const diff = await stack.call("GET", second.flow.diffPath);
  expect(diff.status).toBe(200);
  expect(diff.body.against).toBe(1);
  expect(diff.body.diff).toMatch(/^\+.*df /m);

  const third = await say(stack, sessionId, "only on web1");
  expect(third.kind).toBe("refined");
  expect(third.flow).toMatchObject({ id: flowId, version: 3, status: "pending" });
  for (const s of third.plan.steps) expect(s.targets).toEqual(["web1"]);
  expect(third.changes).toContain("check_nginx now on web1");

  const early = await say(stack, sessionId, "run it");
  expect(early.kind).toBe("run_refused");
  expect(early.error.code).toBe("not_approved");
  expect(early.reply).toContain(`POST /v1/flows/${flowId}/versions/3/approve`);
  expect((await stack.call("GET", `/v1/runs?flowId=${flowId}`)).body.runs).toHaveLength(0);

  // A person approves, over REST, as a reviewer.
  const approved = await stack.call("POST", `/v1/flows/${flowId}/versions/3/approve`, {
    comment: "checked in chat test",
  });
  expect(approved.status).toBe(200);

  const started = await say(stack, sessionId, "run it");
  expect(started.kind).toBe("run_started");
  const runId = started.run.run.id;
  const done = await stack.waitForRun(runId);
  expect(done.run.status).toBe("succeeded");
  expect(done.run.version).toBe(3);
  // Only web1 was touched, as version 3 says.
  expect(stack.hosts.commands("web2")).toHaveLength(0);
  expect(stack.hosts.commands("web1").some((c) => c.includes("df "))).toBe(true);

  const report = await say(stack, sessionId, "did it work?");
  expect(report.kind).toBe("run_report");
  expect(report.run.run).toMatchObject({ id: runId, status: "succeeded" });
  expect(report.reply).toContain(`Run ${runId} (version 3) succeeded`);
  expect(report.reply).toContain("check_disk on web1 (exit 0)");

  const history = await stack.call("GET", `/v1/chat/${sessionId}`);
  expect(history.status).toBe(200);
  expect(history.body.session.flowId).toBe(flowId);
  expect(history.body.messages.map((m: any) => m.role)).toEqual(
    Array.from({ length: 12 }, (_, i) => (i % 2 ? "assistant" : "user")),
  );
  expect(history.body.messages[2].text).toBe("also check disk");
  expect(history.body.messages[3].detail).toMatchObject({ kind: "refined", flow: { version: 2 } });
  return { sessionId, flowId, runId };
}
