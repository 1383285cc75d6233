import { afterEach, describe, expect, it } from "vitest";
import type { TestHostSpec } from "../../fixtures/test-hosts/server";
import { ConfigError, loadConfig } from "../../src/config";
import { planServiceCheck } from "../helpers/library";
import { type Stack, startStack } from "../helpers/stack";

const ACTIVE: TestHostSpec[] = [
  { name: "web1", services: { nginx: "active" } },
  { name: "web2", services: { nginx: "active" } },
];

describe("automatic promotion to the flow library (LIBRARY_AUTO_PROMOTE_AFTER)", () => {
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
  });

  async function approvedFlow(): Promise<string> {
    const flowId = await planServiceCheck(stack);
    expect((await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`)).status).toBe(200);
    return flowId;
  }
  async function run(flowId: string): Promise<string> {
    const started = await stack.call("POST", `/v1/flows/${flowId}/runs`, { version: 1 });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return (await stack.waitForRun(started.body.run.id)).run.status;
  }
  /** The listener runs just after the run's final state is stored: wait for it to settle. */
  async function library(count: number): Promise<any[]> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const { entries } = (await stack.call("GET", "/v1/library")).body;
      if (entries.length >= count || Date.now() > deadline) return entries;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it("promotes an approved version after N succeeded runs, audited as system, and intents then reuse it", async () => {
    stack = await startStack({ LIBRARY_AUTO_PROMOTE_AFTER: "2" }, ACTIVE);
    expect(stack.svc.config.library.autoPromoteAfter).toBe(2);
    const flowId = await approvedFlow();
    expect(await run(flowId)).toBe("succeeded");
    await new Promise((r) => setTimeout(r, 100));
    expect(await library(0)).toEqual([]);
    expect(await run(flowId)).toBe("succeeded");
    const [entry, ...more] = await library(1);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      name: "Check a service",
      flowId,
      version: 1,
      examples: ["check nginx on web1 and web2"],
      createdBy: null,
      approvedHosts: ["web1", "web2"],
      stats: { runs: 2, finished: 2, succeeded: 2, successRate: 1 },
    });
    expect(entry.params.map((p: any) => p.name)).toEqual(["hosts", "service"]);
    expect(entry.description).toMatch(
      /^Check a service\. Steps: Is the service active\. Promoted automatically/,
    );
    const audit = (await stack.call("GET", "/v1/audit?action=library.promoted")).body.entries;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: "system", detail: { by: "auto", succeededRuns: 2, after: 2 } });

    // A third run promotes nothing more; an intent close to it is answered from the library.
    expect(await run(flowId)).toBe("succeeded");
    await new Promise((r) => setTimeout(r, 100));
    expect(await library(0)).toHaveLength(1);
    const reuse = await stack.call("POST", "/v1/intents", { text: "check redis on web1 and web2" });
    expect(reuse.status, JSON.stringify(reuse.body)).toBe(201);
    expect(reuse.body.planner).toBe("library");
    expect(reuse.body.library).toMatchObject({ entryId: entry.id, params: { service: "redis" } });
  });

  it("is off by default: succeeded runs promote nothing", async () => {
    stack = await startStack({}, ACTIVE);
    expect(stack.svc.config.library.autoPromoteAfter).toBe(0);
    const flowId = await approvedFlow();
    expect(await run(flowId)).toBe("succeeded");
    await new Promise((r) => setTimeout(r, 100));
    expect(await library(0)).toEqual([]);
  });

  it("counts only succeeded runs", async () => {
    stack = await startStack({ LIBRARY_AUTO_PROMOTE_AFTER: "1" }, [
      { name: "web1", services: { nginx: "active" } },
      { name: "web2", services: { nginx: "inactive" } },
    ]);
    const flowId = await approvedFlow();
    expect(await run(flowId)).toBe("failed");
    await new Promise((r) => setTimeout(r, 100));
    expect(await library(0)).toEqual([]);
  });
});

describe("LIBRARY_AUTO_PROMOTE_AFTER", () => {
  it("is a whole number, 0 or more; anything else names the variable", () => {
    expect(loadConfig({}).library.autoPromoteAfter).toBe(0);
    expect(loadConfig({ LIBRARY_AUTO_PROMOTE_AFTER: "5" }).library.autoPromoteAfter).toBe(5);
    for (const bad of ["-1", "2.5", "many", "1e9"]) {
      const error = (() => {
        try {
          loadConfig({ LIBRARY_AUTO_PROMOTE_AFTER: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems[0]?.variable).toBe("LIBRARY_AUTO_PROMOTE_AFTER");
    }
  });
});
