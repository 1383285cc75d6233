import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";
import { INTENT } from "./conversation";

async function connect(stack: Stack, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "intentflow-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${stack.base}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

const structured = (r: any) => r.structuredContent as any;
const errorOf = (r: any) => JSON.parse(r.content[0].text).error;

describe("the MCP server at /mcp, with the official client", () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack();
    client = await connect(stack);
  });
  afterAll(async () => {
    await client?.close();
    await stack?.close();
  });

  it("lists the tools, none of which approves", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ["chat", "plan_intent", "read_run", "refine_plan", "run_flow", "show_flow"].sort(),
    );
    for (const t of tools) {
      expect(t.name).not.toMatch(/approv|reject/);
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type).toBe("object");
    }
  });

  it("plans an intent, shows it pending, refuses to run it until a person approves, then runs and reads it", async () => {
    const planned = await client.callTool({ name: "plan_intent", arguments: { text: INTENT } });
    expect(planned.isError).toBeFalsy();
    const flow = structured(planned).flow;
    expect(flow).toMatchObject({ version: 1, status: "pending", engine: "flow" });
    // The same flow over REST: both doors made one version.
    expect((await stack.call("GET", `/v1/flows/${flow.id}/versions`)).body.versions).toHaveLength(1);

    const shown = structured(await client.callTool({ name: "show_flow", arguments: { id: flow.id } }));
    expect(shown.version.status).toBe("pending");
    expect(shown.version.source).toContain("check_nginx");
    expect(shown.review.approvePath).toBe(`/v1/flows/${flow.id}/versions/1/approve`);

    const refused = await client.callTool({ name: "run_flow", arguments: { id: flow.id } });
    expect(refused.isError).toBe(true);
    expect(errorOf(refused).code).toBe("not_approved");
    expect((await stack.call("GET", `/v1/runs?flowId=${flow.id}`)).body.runs).toHaveLength(0);

    const refined = await client.callTool({
      name: "refine_plan",
      arguments: { flowId: flow.id, message: "only on web2" },
    });
    expect(structured(refined).flow).toMatchObject({ id: flow.id, version: 2, status: "pending" });

    expect((await stack.call("POST", `/v1/flows/${flow.id}/versions/2/approve`)).status).toBe(200);
    const queued = structured(await client.callTool({ name: "run_flow", arguments: { id: flow.id } }));
    expect(queued.run).toMatchObject({ status: "queued", version: 2 });
    await stack.waitForRun(queued.run.id);

    const read = structured(await client.callTool({ name: "read_run", arguments: { id: queued.run.id } }));
    expect(read.run.status).toBe("succeeded");
    expect(read.steps.some((s: any) => s.stepId === "restart_nginx" && s.host === "web2")).toBe(true);
    expect(stack.hosts.commands("web2").filter((c) => c.includes("restart"))).toHaveLength(1);
    expect(stack.hosts.commands("web1")).toHaveLength(0);
    const audit = await stack.call("GET", `/v1/audit?subject=run:${queued.run.id}`);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        action: "run.started",
        actor: "local",
        detail: expect.objectContaining({ via: "mcp" }),
      }),
    ]);
  });

  it("validates tool input with the API's schemas", async () => {
    const bad = await client.callTool({ name: "read_run", arguments: { id: "not-an-id" } });
    expect(bad.isError).toBe(true);
    const empty = await client.callTool({ name: "plan_intent", arguments: { text: "" } });
    expect(empty.isError).toBe(true);
  });

  it("holds a chat turn like POST /v1/chat", async () => {
    const r = structured(
      await client.callTool({ name: "chat", arguments: { message: "check disk on web1" } }),
    );
    expect(r.kind).toBe("planned");
    const history = await stack.call("GET", `/v1/chat/${r.sessionId}`);
    expect(history.body.messages).toHaveLength(2);
  });
});

describe("/mcp with API keys", () => {
  it("needs a key like /v1, and acts as the key's person", async () => {
    const stack = await startStack({ API_KEYS: "ann:requester:key-ann-123456" });
    try {
      await expect(connect(stack)).rejects.toThrow();
      const client = await connect(stack, { authorization: "Bearer key-ann-123456" });
      const planned = structured(await client.callTool({ name: "plan_intent", arguments: { text: INTENT } }));
      const v = await stack.call("GET", `/v1/flows/${planned.flow.id}/versions/1`, undefined, {
        authorization: "Bearer key-ann-123456",
      });
      expect(v.body.version.createdBy).toBe("ann");
      await client.close();
    } finally {
      await stack.close();
    }
  });
});
