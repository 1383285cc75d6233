import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestHostSpec } from "../../fixtures/test-hosts/server";
import { paramsOf } from "../../src/library";
import { matchLibrary } from "../../src/library/match";
import { loadTemplates } from "../../src/library/templates";
import type { LibraryEntryRecord } from "../../src/store/types";
import { type Stack, startStack } from "../helpers/stack";

const templates = loadTemplates();
const HOSTS: TestHostSpec[] = [
  { name: "web1", services: { nginx: "active" } },
  { name: "web2", services: { nginx: "active" } },
  { name: "db1", services: {} },
];

describe("the starter library in templates/library", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, HOSTS);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("covers the common operations", () => {
    expect(templates.map((t) => t.slug)).toEqual([
      "cert-expiry",
      "disk-threshold",
      "http-check",
      "memory-threshold",
      "package-version",
      "port-check",
      "rolling-restart",
      "service-health-heal",
    ]);
  });

  it.each(templates.map((t) => [t.slug, t] as const))(
    "%s: its plan compiles to a flow version pending review",
    async (_slug, t) => {
      const created = await stack.call("POST", "/v1/plans?engine=flow", t.plan);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.flow.diagnostics.filter((d: any) => d.severity === "error")).toEqual([]);
      expect(t.plan.params.some((p) => p.type === "hosts")).toBe(true);
    },
  );

  it("each template's examples match that template, and no other, once promoted", () => {
    const entries: LibraryEntryRecord[] = templates.map((t) => ({
      id: t.slug,
      name: t.name,
      description: t.description,
      flowId: t.slug,
      version: 1,
      params: paramsOf(t.plan),
      examples: t.examples,
      approvedHosts: ["web1", "web2", "db1"],
      createdBy: null,
      createdAt: "2026-01-01T00:00:00.000Z",
    }));
    for (const t of templates)
      for (const example of t.examples)
        expect(matchLibrary(entries, example, stack.svc.pipeline.inventory)?.entry.id, example).toBe(t.slug);
  });
});
