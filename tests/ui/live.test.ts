import { describe, expect, test } from "vitest";
import { applyEvent } from "../../src/ui/client/live";
import type { RunDetail } from "../../src/ui/client/types";

const row = (status: string, host = "web1") => ({
  stepId: "check",
  host,
  status,
  attempts: 1,
  exitCode: status === "succeeded" ? 0 : null,
  stdout: "",
  stderr: "",
  error: null,
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: null,
});

describe("live run events", () => {
  test("update the run, its step × host rows and logs as GET /v1/runs/{id} would show them", () => {
    const d = {
      run: { id: "r1", status: "queued" },
      steps: [],
      logs: [],
    } as unknown as RunDetail;
    applyEvent(d, "run.status", { id: "r1", status: "running", error: null });
    applyEvent(d, "step.started", row("running"));
    applyEvent(d, "step.started", row("running", "web2"));
    applyEvent(d, "step.finished", row("succeeded"));
    const log = {
      seq: 1,
      at: "2026-01-01T00:00:00.000Z",
      level: "info",
      stepId: "check",
      host: "web1",
      message: "up",
    };
    applyEvent(d, "log", log);
    applyEvent(d, "log", log); // a reconnected stream sends it again
    applyEvent(d, "run.finished", { id: "r1", status: "succeeded", error: null, finishedAt: "x" });
    expect(d.run).toMatchObject({ id: "r1", status: "succeeded", finishedAt: "x" });
    expect(d.steps.map((s) => `${s.host}:${s.status}`)).toEqual(["web1:succeeded", "web2:running"]);
    expect(d.logs).toHaveLength(1);
  });
});
