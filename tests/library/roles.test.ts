import { afterEach, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

const KEYS = "ann:requester:req-key-0001,rev:reviewer:rev-key-0001";
const as = (key: string) => ({ "x-api-key": key });

describe("who may promote to the flow library", () => {
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
  });

  it("a reviewer may, a requester may not (403), and both may list the library", async () => {
    stack = await startStack({ API_KEYS: KEYS });
    const created = await stack.call(
      "POST",
      "/v1/intents",
      { text: "check nginx on web1 and web2" },
      as("req-key-0001"),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { id } = created.body.flow;
    if (created.body.flow.status !== "approved")
      expect(
        (await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, as("rev-key-0001"))).status,
      ).toBe(200);
    const body = { flowId: id, version: 1, name: "nginx check", description: "check nginx", examples: [] };
    expect((await stack.call("POST", "/v1/library", body, as("req-key-0001"))).status).toBe(403);
    const ok = await stack.call("POST", "/v1/library", body, as("rev-key-0001"));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.entry).toMatchObject({ createdBy: "rev", examples: ["check nginx on web1 and web2"] });
    const listed = await stack.call("GET", "/v1/library", undefined, as("req-key-0001"));
    expect(listed.body.entries).toHaveLength(1);
    const audit = await stack.call("GET", "/v1/audit?action=library.promoted", undefined, as("rev-key-0001"));
    expect(audit.body.entries).toHaveLength(1);
  });
});
