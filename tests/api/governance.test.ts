import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";
const keys = { carol: "carol-key-0123456789", rita: "rita-key-0123456789" };
const carol = { authorization: `Bearer ${keys.carol}` };
const rita = { authorization: `Bearer ${keys.rita}` };

describe("rejection, audit trail and schedules", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ API_KEYS: `carol:requester:${keys.carol},rita:reviewer:${keys.rita}` });
  });
  afterAll(() => stack?.close());

  async function newFlow(): Promise<string> {
    const res = await stack.call("POST", "/v1/intents", { text: INTENT }, carol);
    expect(res.status).toBe(201);
    return res.body.flow.id;
  }

  it("lets a reviewer reject with a reason; the version cannot then be approved or run", async () => {
    const id = await newFlow();
    expect(
      (await stack.call("POST", `/v1/flows/${id}/versions/1/reject`, { reason: "x" }, carol)).status,
    ).toBe(403);
    expect(
      (await stack.call("POST", `/v1/flows/${id}/versions/1/reject`, { reason: " " }, rita)).status,
    ).toBe(400);
    const res = await stack.call(
      "POST",
      `/v1/flows/${id}/versions/1/reject`,
      { reason: "restart needs a window" },
      rita,
    );
    expect(res.status).toBe(200);
    expect(res.body.version).toMatchObject({ status: "rejected", comment: "restart needs a window" });
    expect((await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, rita)).status).toBe(409);
    expect((await stack.call("POST", `/v1/flows/${id}/runs`, {}, carol)).status).toBe(409);
  });

  it("records who did what in the audit trail, readable by reviewers only", async () => {
    const id = await newFlow();
    await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, { comment: "fine" }, rita);
    const run = (await stack.call("POST", `/v1/flows/${id}/runs`, {}, carol)).body.run;
    await stack.waitForRun(run.id, undefined, carol);
    expect((await stack.call("GET", "/v1/audit", undefined, carol)).status).toBe(403);
    const flowTrail = await stack.call(
      "GET",
      `/v1/audit?subject=${encodeURIComponent(`flow:${id}@1`)}`,
      undefined,
      rita,
    );
    expect(flowTrail.body.entries.map((e: any) => [e.action, e.actor])).toEqual([
      ["version.approved", "rita"],
      ["version.created", "carol"],
    ]);
    const runTrail = await stack.call("GET", `/v1/audit?subject=run:${run.id}`, undefined, rita);
    expect(runTrail.body.entries[0]).toMatchObject({ action: "run.started", actor: "carol" });
    expect(JSON.stringify(runTrail.body)).not.toContain(keys.carol);
  });

  it("schedules an approved version at an interval, fires it once per due time, and pauses and removes it", async () => {
    const id = await newFlow();
    const early = await stack.call("POST", "/v1/schedules", { flowId: id, everyMs: 60_000 }, rita);
    expect(early.status).toBe(404); // nothing approved yet
    await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, rita);
    for (const bad of [
      { flowId: id },
      { flowId: id, cron: "nope" },
      { flowId: id, everyMs: 5 },
      { flowId: id, cron: "* * * * *", everyMs: 60_000 },
      { flowId: id, at: "2001-01-01T00:00:00Z" },
    ])
      expect((await stack.call("POST", "/v1/schedules", bad, rita)).status).toBe(400);
    expect((await stack.call("POST", "/v1/schedules", { flowId: id, everyMs: 60_000 }, carol)).status).toBe(
      403,
    );

    const created = await stack.call("POST", "/v1/schedules", { flowId: id, everyMs: 60_000 }, rita);
    expect(created.status).toBe(201);
    const schedule = created.body.schedule;
    expect(schedule).toMatchObject({ kind: "interval", spec: "60000", enabled: true, version: 1 });

    // Nothing is due yet; then the service "was down" for ten intervals: exactly one catch-up run.
    await stack.svc.scheduler.tick(new Date());
    expect((await stack.call("GET", `/v1/runs?flowId=${id}`, undefined, carol)).body.runs).toHaveLength(0);
    const later = new Date(Date.now() + 10 * 60_000 + 1000);
    await Promise.all([stack.svc.scheduler.tick(later), stack.svc.scheduler.tick(later)]);
    const runs = (await stack.call("GET", `/v1/runs?flowId=${id}`, undefined, carol)).body.runs;
    expect(runs).toHaveLength(1);
    await stack.waitForRun(runs[0].id, undefined, carol);
    const after = (await stack.call("GET", "/v1/schedules", undefined, carol)).body.schedules.find(
      (s: any) => s.id === schedule.id,
    );
    expect(after.lastRunId).toBe(runs[0].id);
    expect(Date.parse(after.nextRunAt)).toBeGreaterThan(later.getTime());

    const paused = await stack.call("POST", `/v1/schedules/${schedule.id}/pause`, undefined, rita);
    expect(paused.body.schedule.enabled).toBe(false);
    await stack.svc.scheduler.tick(new Date(Date.now() + 100 * 60_000));
    expect((await stack.call("GET", `/v1/runs?flowId=${id}`, undefined, carol)).body.runs).toHaveLength(1);
    const resumed = await stack.call("POST", `/v1/schedules/${schedule.id}/resume`, undefined, rita);
    expect(resumed.body.schedule.enabled).toBe(true);
    expect((await stack.call("POST", `/v1/schedules/${schedule.id}/delete`, undefined, rita)).status).toBe(
      200,
    );
    expect((await stack.call("POST", `/v1/schedules/${schedule.id}/delete`, undefined, rita)).status).toBe(
      404,
    );
    const trail = await stack.call("GET", `/v1/audit?subject=schedule:${schedule.id}`, undefined, rita);
    expect(trail.body.entries.map((e: any) => e.action)).toEqual([
      "schedule.deleted",
      "schedule.resumed",
      "schedule.paused",
      "schedule.created",
    ]);
  });

  it("reports runs per status in the metrics", async () => {
    const text = await (await fetch(`${stack.base}/metrics`)).text();
    expect(text).toMatch(/intentflow_runs\{status="succeeded"\} [1-9]/);
  });

  it("records the approval policy in force, and a change of it at the next start", async () => {
    const trail = await stack.call("GET", "/v1/audit?subject=policy", undefined, rita);
    expect(trail.body.entries[0]).toMatchObject({ action: "policy.initial", actor: "config" });
    expect(trail.body.entries[0].detail.apiKeys).toEqual(["carol:requester", "rita:reviewer"]);
    expect(JSON.stringify(trail.body)).not.toContain(keys.rita);
  });
});
