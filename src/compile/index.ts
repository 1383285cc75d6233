/**
 * The compile pipeline: plan → source (codegen) → diagnostics (type check + source policy)
 * → bundle. A reviewer's edited source enters at the second stage. Create one Compiler per
 * process and keep it: its type checker and codegen project stay warm between compiles.
 */
import type { Plan } from "../plan/schema";
import type { Diagnostic } from "../store/types";
import { bundleFlow } from "./bundle";
import { CodegenError, FlowCodegen } from "./codegen";
import { FlowTypeChecker } from "./typecheck";

export type CompiledFlow = {
  source: string;
  diagnostics: Diagnostic[];
  /** null when there are error diagnostics. */
  bundle: string | null;
  sourceMap: string | null;
  /** sha256 hex of `bundle`. */
  hash: string | null;
  /** bundleMs: the wait for the bundle after the type check, which it runs alongside. */
  timings: { codegenMs: number; typecheckMs: number; bundleMs: number };
};

export type Compiler = {
  compilePlan(plan: Plan, targets: Record<string, string[]>): Promise<CompiledFlow>;
  compileSource(source: string): Promise<CompiledFlow>;
};

export { CodegenError } from "./codegen";

const since = (start: number) => Math.round((performance.now() - start) * 100) / 100;

export function createCompiler(): Compiler {
  const codegen = new FlowCodegen();
  const checker = new FlowTypeChecker();

  async function compileSource(source: string, codegenMs = 0): Promise<CompiledFlow> {
    // esbuild works in its own process: the bundle is built while the type check runs here,
    // once the request has left (one turn of the event loop). A rejected source's bundle is
    // dropped unseen.
    const bundling = bundleFlow(source);
    await new Promise((resolve) => setImmediate(resolve));
    const checkStart = performance.now();
    const diagnostics = checker.check(source);
    const typecheckMs = since(checkStart);
    const failed: CompiledFlow = {
      source,
      diagnostics,
      bundle: null,
      sourceMap: null,
      hash: null,
      timings: { codegenMs, typecheckMs, bundleMs: 0 },
    };
    if (diagnostics.some((d) => d.severity === "error")) {
      bundling.catch(() => {});
      return failed;
    }
    const bundleStart = performance.now();
    const bundled = await bundling;
    const bundleMs = since(bundleStart);
    const all = [...diagnostics, ...bundled.diagnostics];
    if (!bundled.bundle || all.some((d) => d.severity === "error"))
      return { ...failed, diagnostics: all, timings: { codegenMs, typecheckMs, bundleMs } };
    return {
      source,
      diagnostics: all,
      bundle: bundled.bundle.code,
      sourceMap: bundled.bundle.map,
      hash: bundled.bundle.hash,
      timings: { codegenMs, typecheckMs, bundleMs },
    };
  }

  async function compilePlan(plan: Plan, targets: Record<string, string[]>): Promise<CompiledFlow> {
    const start = performance.now();
    let source: string;
    try {
      source = codegen.generate(plan, targets);
    } catch (e) {
      if (!(e instanceof CodegenError)) throw e;
      // The plan asks for something the flow engine cannot express: no source to show.
      return {
        source: "",
        diagnostics: e.problems.map((p) => ({
          code: "codegen",
          message: p.stepId ? `step "${p.stepId}": ${p.message}` : p.message,
          line: 1,
          column: 1,
          severity: "error" as const,
        })),
        bundle: null,
        sourceMap: null,
        hash: null,
        timings: { codegenMs: since(start), typecheckMs: 0, bundleMs: 0 },
      };
    }
    return compileSource(source, since(start));
  }

  return { compilePlan, compileSource: (source) => compileSource(source) };
}

let shared: Compiler | null = null;
const defaultCompiler = () => {
  shared ??= createCompiler();
  return shared;
};

/** compilePlan on the process's shared, warm compiler. */
export function compilePlan(plan: Plan, targets: Record<string, string[]>): Promise<CompiledFlow> {
  return defaultCompiler().compilePlan(plan, targets);
}

/** compileSource on the process's shared, warm compiler. */
export function compileSource(source: string): Promise<CompiledFlow> {
  return defaultCompiler().compileSource(source);
}
