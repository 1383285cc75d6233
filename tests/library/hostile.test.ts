import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planServiceCheck, SERVICE_CHECK } from "../helpers/library";
import { NGINX_HOSTS, type Stack, startStack } from "../helpers/stack";

/** Bad promotions get a 4xx naming what is wrong, and leave the library and the audit trail as they were. */
describe("malformed and hostile library requests", () => {
  let stack: Stack;
  let flowId: string;
  const good = () => ({
    flowId,
    version: 1,
    name: "service check",
    description: "check a service",
    examples: [],
  });

  beforeAll(async () => {
    stack = await startStack({}, NGINX_HOSTS);
    flowId = await planServiceCheck(stack);
    await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function unchanged(): Promise<void> {
    expect((await stack.call("GET", "/v1/library")).body.entries).toEqual([]);
    expect((await stack.call("GET", "/v1/audit?action=library.promoted")).body.entries).toEqual([]);
  }

  const cases: [string, () => unknown, number, string | undefined][] = [
    ["not JSON", () => "{ not json", 400, undefined],
    ["an array", () => [good()], 400, undefined],
    ["no name", () => ({ ...good(), name: undefined }), 400, "name"],
    ["an empty name", () => ({ ...good(), name: "" }), 400, "name"],
    ["a 10 000-character name", () => ({ ...good(), name: "n".repeat(10_000) }), 400, "name"],
    ["version 0", () => ({ ...good(), version: 0 }), 400, "version"],
    ["version as a string", () => ({ ...good(), version: "1" }), 400, "version"],
    ["version 1.5", () => ({ ...good(), version: 1.5 }), 400, "version"],
    ["examples as a string", () => ({ ...good(), examples: "check nginx" }), 400, "examples"],
    ["51 examples", () => ({ ...good(), examples: Array(51).fill("check nginx") }), 400, "examples"],
    ["an empty example", () => ({ ...good(), examples: [""] }), 400, "examples.0"],
    ["an unknown field", () => ({ ...good(), approvedHosts: ["db1", "web1"] }), 400, undefined],
    [
      "a prototype key",
      () => JSON.parse(`{"__proto__":{"admin":true},"flowId":"${flowId}"}`),
      400,
      undefined,
    ],
    [
      "an unknown flow",
      () => ({ ...good(), flowId: "00000000-0000-4000-8000-000000000000" }),
      404,
      "version",
    ],
    ["a version the flow does not have", () => ({ ...good(), version: 7 }), 404, "version"],
  ];

  it.each(cases)("%s: refused, nothing stored", async (_what, body, status, field) => {
    const r = await stack.call("POST", "/v1/library", body());
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error.code).toEqual(expect.any(String));
    expect(r.body.error.message).toEqual(expect.any(String));
    if (field) expect(r.body.error.field).toBe(field);
    await unchanged();
  });

  it("a pending version is not promoted (409 not_approved), and a version is promoted once (409 already_promoted)", async () => {
    const edited = await stack.call("POST", "/v1/plans", SERVICE_CHECK);
    const pending = await stack.call("POST", "/v1/library", { ...good(), flowId: edited.body.flow.id });
    expect(pending.status).toBe(409);
    expect(pending.body.error).toMatchObject({ code: "not_approved", field: "version" });
    await unchanged();
    expect((await stack.call("POST", "/v1/library", good())).status).toBe(201);
    const twice = await stack.call("POST", "/v1/library", { ...good(), name: "the same, again" });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: "already_promoted", field: "version" });
    expect((await stack.call("GET", "/v1/library")).body.entries).toHaveLength(1);
  });

  it("intents that name odd hosts next to a library flow are refused (422), never reused or widened", async () => {
    // (The entry from the test above is in the library.) Hosts the inventory does not know are not hosts:
    // the intent is not a library answer and the offline planner says what it does not know.
    for (const text of [
      "check nginx on web1 web2 db9",
      "check nginx on web[1-99999]",
      "check nginx on ../../etc",
    ]) {
      const r = await stack.call("POST", "/v1/intents", { text });
      expect(r.status, `${text}: ${JSON.stringify(r.body)}`).toBe(422);
      expect(["unknown_host", "not_understood"]).toContain(r.body.error.code);
    }
    const versions = (await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions;
    expect(versions).toHaveLength(1);
  });
});
