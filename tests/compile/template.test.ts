import { describe, expect, it } from "vitest";
import { FlowCodegen } from "../../src/compile/codegen";
import { loadTemplate, renderTemplate, wrapWords } from "../../src/compile/template";
import { makePlan, makeStep } from "../helpers/plans";

describe("templates", () => {
  it("shape the generated file without touching the compiler", () => {
    const plan = makePlan([makeStep("a")]);
    const template = loadTemplate("flow.ts.tpl").replace("// Intent: {{intent}}", "// Asked for: {{intent}}");
    const source = new FlowCodegen({ template }).generate(plan, { a: ["web1"] });
    expect(source).toContain("// Asked for: test intent");
    expect(new FlowCodegen().generate(plan, { a: ["web1"] })).toContain("// Intent: test intent");
  });

  it("keep every line of a value inside the comment it was put in", () => {
    const text = renderTemplate("// Title: {{t}}\ncode({{c}});", { t: "a\nb\u2028c\rd", c: "1" });
    expect(text).toBe("// Title: a\n// b\n// c\n// d\ncode(1);");
  });

  it("wrap long comment text between words", () => {
    expect(wrapWords("aaa bbb ccc ddd", 7)).toEqual(["aaa bbb", "ccc ddd"]);
    expect(wrapWords("aaa bbb ccc", 7, 4)).toEqual(["aaa", "bbb ccc"]);
  });

  it("say which value is missing", () => {
    expect(() => renderTemplate("{{x}}", {})).toThrow('template value "x" is missing');
  });
});
