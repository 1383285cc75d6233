import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource } from "../../src/compile";
import { bundleFlow, onlySdkImported } from "../../src/compile/bundle";

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

  it("refuses imports that resolve to real files, whatever their kind, and bundles none of them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "intentflow-bundle-"));
    const secret = join(dir, "secret.json");
    writeFileSync(secret, JSON.stringify({ token: "planted-secret-7f3a" }));
    try {
      const imports = [
        `import s from ${JSON.stringify(secret)};\nexport const t = s;`,
        'import "./intentflow-sdk.js";',
        'export const r = require("./intentflow-sdk.js");',
        'export const d = () => import("./intentflow-sdk.js");',
      ];
      for (const line of imports) {
        const { bundle, diagnostics } = await bundleFlow(`${line}\n${source}`);
        expect(bundle, line).toBeNull();
        expect(diagnostics[0]?.message, line).toMatch(/^flows may import only "intentflow:sdk", not "/);
        expect(JSON.stringify(diagnostics)).not.toContain("planted-secret");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes a plugin-free build only when its metafile shows the SDK and nothing else", () => {
    const sdk = { bytes: 1, imports: [] };
    const flow = (original: string, extra: object = {}) => ({
      bytes: 1,
      imports: [{ path: "intentflow-sdk.js", kind: "import-statement" as const, original, ...extra }],
    });
    const ok = { inputs: { "flow.ts": flow("intentflow:sdk"), "intentflow-sdk.js": sdk }, outputs: {} };
    expect(onlySdkImported(ok)).toBe(true);
    expect(onlySdkImported({ ...ok, inputs: { ...ok.inputs, "flow.ts": flow("./intentflow-sdk.js") } })).toBe(
      false,
    );
    expect(onlySdkImported({ ...ok, inputs: { ...ok.inputs, "/etc/secret.json": sdk } })).toBe(false);
    expect(
      onlySdkImported({
        ...ok,
        inputs: { ...ok.inputs, "flow.ts": flow("intentflow:sdk", { external: true }) },
      }),
    ).toBe(false);
    expect(
      onlySdkImported({
        ...ok,
        inputs: { ...ok.inputs, "intentflow-sdk.js": { bytes: 1, imports: flow("fs").imports } },
      }),
    ).toBe(false);
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
