import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { compileSource } from "../../src/compile";
import { bundleFlow } from "../../src/compile/bundle";

const source = [
  'import { defineFlow, log } from "intentflow:sdk";',
  "",
  'export default defineFlow({ name: "hello" }, async () => {',
  '  await log("hello");',
  "});",
  "",
].join("\n");

describe("bundle", () => {
  it("builds one IIFE with an external source map and the sha256 of the code", async () => {
    const { bundle, diagnostics } = await bundleFlow(source);
    expect(diagnostics).toEqual([]);
    expect(bundle?.code).toMatch(/^var __intentflowFlow = \(\(\) => \{/);
    expect(bundle?.code).not.toContain("sourceMappingURL");
    expect(bundle?.hash).toBe(createHash("sha256").update(bundle!.code).digest("hex"));
    const map = JSON.parse(bundle!.map) as { sources: string[]; sourcesContent: string[] };
    expect(map.sources).toContain("flow.ts");
    expect(map.sourcesContent).toContain(source);
  });

  it("is deterministic", async () => {
    const [a, b] = await Promise.all([bundleFlow(source), bundleFlow(source)]);
    expect(a.bundle?.hash).toBe(b.bundle?.hash);
  });

  it("refuses any import but intentflow:sdk, with its position", async () => {
    const { bundle, diagnostics } = await bundleFlow(
      `import { x } from "./other";\nimport "fs";\n${source}\nx();`,
    );
    expect(bundle).toBeNull();
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "bundle",
        line: 1,
        column: 19,
        severity: "error",
        message: expect.stringContaining('not "./other"'),
      }),
      expect.objectContaining({
        code: "bundle",
        line: 2,
        column: 8,
        severity: "error",
        message: expect.stringContaining('not "fs"'),
      }),
    ]);
  });

  it("refuses look-alikes of the SDK and absolute paths, and names no machine path in the bundle", async () => {
    for (const path of ["intentflow:sdk2", "intentflow:sd", "/etc/passwd", "intentflow-sdk.js"]) {
      const { bundle, diagnostics } = await bundleFlow(`import "${path}";\n${source}`);
      expect(bundle).toBeNull();
      expect(diagnostics[0]?.message).toBe(`flows may import only "intentflow:sdk", not "${path}"`);
    }
    const { bundle } = await bundleFlow(source);
    expect(bundle?.code).not.toContain(tmpdir());
    expect(bundle?.map).not.toContain(tmpdir());
  });

  it("reports SDK names that do not exist", async () => {
    const { diagnostics } = await bundleFlow(`${source.replace("log }", "log, nothing }")}\nnothing();`);
    expect(diagnostics[0]?.message).toContain(
      'No matching export in "intentflow-sdk.js" for import "nothing"',
    );
  });

  it("compileSource reports timings and returns the bundle, map and hash together", async () => {
    const out = await compileSource(source);
    expect(out.diagnostics).toEqual([]);
    expect(out.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.sourceMap).toContain('"flow.ts"');
    expect(out.timings).toEqual({
      codegenMs: 0,
      typecheckMs: expect.any(Number),
      bundleMs: expect.any(Number),
    });
  });
});
