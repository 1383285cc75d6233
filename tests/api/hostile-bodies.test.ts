import Database from "better-sqlite3";
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

/**
 * Property: whatever a client sends to any route, the answer is never a 5xx, and a refused
 * request changes nothing in the store.
 */

function rowCounts(stack: Stack): string {
  const db = new Database(join(stack.dir, "intentflow.db"), { readonly: true });
  try {
    return ["plans", "flows", "flow_versions", "runs", "step_results", "logs", "journal"]
      .map((t) => (db.prepare(`select count(*) n from ${t}`).get() as { n: number }).n)
      .join(",");
  } finally {
    db.close();
  }
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "../../etc/passwd",
    "%2e%2e%2f",
    "__proto__",
    "constructor",
    "'; drop table runs; --",
    "$(reboot)",
    "`id`",
    "{{params.x}}",
    "web1; rm -rf /",
    "\u202e",
    "x".repeat(5000),
  ),
);

const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "prototype", "steps", "text")),
      tie("value"),
      {
        maxKeys: 5,
      },
    ),
  ),
})).value;

describe("hostile bodies on every route", () => {
  let stack: Stack;
  let flowId: string;
  beforeAll(async () => {
    stack = await startStack();
    const created = await stack.call("POST", "/v1/intents", {
      text: "check nginx on web1 and web2 and restart it where it is down",
    });
    flowId = created.body.flow.id;
  });
  afterAll(() => stack?.close());

  const routes = (id: string) => [
    ["POST", "/v1/intents"],
    ["POST", "/v1/plans"],
    ["POST", `/v1/flows/${id}/versions`],
    ["POST", `/v1/flows/${id}/versions/1/approve`],
    ["POST", `/v1/flows/${id}/runs`],
    ["POST", `/v1/runs/${id}/cancel`],
  ];

  it("never answers 5xx and stores nothing for refused bodies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 }),
        fc.oneof(
          hostileValue,
          hostileString.map((s) => `{${s}`),
        ),
        async (i, body) => {
          const [method, path] = routes(flowId)[i]!;
          const before = rowCounts(stack);
          const raw = typeof body === "string" && body.startsWith("{") ? body : JSON.stringify(body);
          const res = await stack.call(method!, path!, raw ?? "null");
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.body.error.code).toMatch(/^[a-z_]+$/);
            expect(rowCounts(stack)).toBe(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never answers 5xx for hostile path segments and query strings", async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, hostileString, async (segment, query) => {
        const before = rowCounts(stack);
        const seg = encodeURIComponent(segment);
        for (const path of [
          `/v1/runs/${seg}`,
          `/v1/flows/${seg}/versions/${seg}`,
          `/v1/flows/${flowId}/versions/${seg}/diff`,
          `/v1/runs?status=${encodeURIComponent(query)}&limit=${seg}`,
          `/v1/versions?status=${seg}`,
          `/v1/plans?engine=${encodeURIComponent(query)}`,
        ]) {
          const res = await stack.call(
            path.startsWith("/v1/plans") ? "POST" : "GET",
            path,
            path.startsWith("/v1/plans") ? {} : undefined,
          );
          expect(res.status).toBeLessThan(500);
        }
        expect(rowCounts(stack)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});
