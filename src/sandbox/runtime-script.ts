/**
 * The in-isolate runtime (sandbox/runtime) bundled once per process into one script that
 * every run evaluates before its flow.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const RUNTIME_ENTRY = fileURLToPath(new URL("../../sandbox/runtime/index.ts", import.meta.url));

let script: Promise<string> | null = null;

/** Installs a runtime script built elsewhere (worker processes get the parent's). */
export function provideRuntimeScript(text: string): void {
  script = Promise.resolve(text);
}

export function runtimeScript(): Promise<string> {
  script ??= build({
    entryPoints: [RUNTIME_ENTRY],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    // Parsed in every run's isolate: smaller is faster. Names stay for readable stacks.
    minify: true,
    keepNames: true,
    logLevel: "silent",
  }).then((out) => {
    const file = out.outputFiles[0];
    if (!file) throw new Error("the sandbox runtime did not build");
    return file.text;
  });
  script.catch(() => {
    script = null;
  });
  return script;
}
