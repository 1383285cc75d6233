import { describe, expect, it } from "vitest";
import { planJsonSchema } from "../../src/plan/json-schema";
import { loadPrompt, renderPrompt } from "../../src/plan/prompts";
import { describeInventoryForPrompt, readPlanReply, systemPrompt } from "../../src/plan/repair";
import { Plan } from "../../src/plan/schema";
import { inventory } from "./inventory";
import { nginxRestartPlan } from "./plans";

describe("prompts", () => {
  it("substitute the given variables once, and leave the plan's own placeholders alone", () => {
    expect(renderPrompt("{{a}} and {{params.hosts}} and {{host}}", { a: "{{b}}" })).toBe(
      "{{b}} and {{params.hosts}} and {{host}}",
    );
  });

  it("refuse a variable the template does not use (template and code drifted apart)", () => {
    expect(() => renderPrompt("hello", { name: "x" })).toThrow("prompt has no {{name}}");
  });

  it("are read from prompts/*.md", async () => {
    expect(await loadPrompt("plan-repair")).toContain("{{issues}}");
    expect(() => loadPrompt("../secrets")).toThrow("invalid prompt name");
  });

  it("the system prompt's example is itself a valid plan", async () => {
    const template = await loadPrompt("plan-system");
    const example = template.split("\n").find((line) => line.startsWith('{"title"'));
    const parsed = Plan.safeParse(JSON.parse(example ?? "null"));
    expect(parsed.success).toBe(true);
  });

  it("the system prompt carries the schema and the inventory, with every placeholder filled", async () => {
    const text = await systemPrompt(inventory);
    expect(text).not.toMatch(/\{\{(schema|inventory)\}\}/);
    expect(text).toContain(JSON.stringify(planJsonSchema()));
    expect(text).toContain("- win1 (windows; groups: windows; tags: none)");
    expect(text).toContain("Groups: web, db, windows");
  });

  it("say so when the inventory is empty", () => {
    expect(describeInventoryForPrompt({ hosts: [], groups: [], tags: [] })).toMatch(/inventory is empty/);
  });
});

describe("reading an LLM reply", () => {
  const intent = "check nginx on web1 and web2 and restart it where it is down";

  it("accepts a plan wrapped in a Markdown fence", () => {
    const reply = `Sure! Here is the plan:\n\`\`\`json\n${JSON.stringify(nginxRestartPlan())}\n\`\`\``;
    expect(readPlanReply(reply, intent)).toMatchObject({ ok: true });
  });

  it("keeps the operator's words as the plan's intent", () => {
    const reply = JSON.stringify({ ...nginxRestartPlan(), intent: "restart nginx everywhere" });
    const read = readPlanReply(reply, intent);
    expect(read.ok && read.plan.intent).toBe(intent);
  });

  it("reports empty and non-object replies", () => {
    expect(readPlanReply("", intent)).toEqual({
      ok: false,
      issues: [{ path: "(reply)", message: "the reply was empty; answer with the plan as a JSON object" }],
    });
    expect(readPlanReply("[1,2]", intent)).toEqual({
      ok: false,
      issues: [{ path: "(reply)", message: "expected a JSON object at the top level" }],
    });
  });
});
