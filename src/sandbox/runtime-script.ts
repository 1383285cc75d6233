/**
 * The in-isolate runtime (sandbox/runtime) bundled once per process into one script that
 * every run evaluates before its flow, and V8's code cache for that one script.
 *
 * The code cache (cachedData) is produced in this process, in a throwaway isolate, from the
 * runtime source above: our own code, bundled here from sandbox/runtime (or, in a worker,
 * received from the parent service, which is trusted more than the worker). It is used only
 * when compiling that same runtime source into a fresh run isolate; V8 rejects it if its
 * version, flags or the source's length differ (`cachedDataRejected`; the cache is then dropped
 * and runs compile from source). CVE-2022-39266 is about accepting cachedData from an
 * untrusted party: cachedData holds compiled code that V8 does not verify against the source
 * text, so whoever supplies it chooses the code that runs. Here no flow, user or API input can
 * supply or replace it, it is never written to disk or sent between processes, and flow
 * bundles are always compiled from source without cachedData.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import ivm from "isolated-vm";
import { GLOBALS, RUNTIME_FILENAME } from "../../sandbox/protocol";

const RUNTIME_ENTRY = fileURLToPath(new URL("../../sandbox/runtime/index.ts", import.meta.url));

let script: Promise<string> | null = null;
let cache: Promise<ivm.ExternalCopy<ArrayBuffer> | null> | null = null;

/** Installs a runtime script built elsewhere (worker processes get the parent's). */
export function provideRuntimeScript(text: string): void {
  script = Promise.resolve(text);
  cache = null;
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

/**
 * V8's code cache of the runtime script, made once per process in a throwaway isolate: the
 * runtime is compiled and evaluated there (with a bridge that goes nowhere), so that the
 * functions its evaluation compiles are in the cache too, then compiled again to produce the
 * cache. A code cache holds compiled code only, no heap state of that isolate. Null if V8
 * produced none: runs then compile from source.
 */
export function runtimeCodeCache(): Promise<ivm.ExternalCopy<ArrayBuffer> | null> {
  cache ??= runtimeScript().then(async (text) => {
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      const context = await isolate.createContext();
      await context.global.set(GLOBALS.send, new ivm.Callback(() => undefined));
      const first = await isolate.compileScript(text, { filename: RUNTIME_FILENAME });
      await first.run(context, { timeout: 5_000 });
      first.release();
      const compiled = (await isolate.compileScript(text, {
        filename: RUNTIME_FILENAME,
        produceCachedData: true,
      })) as ivm.Script & ivm.CachedDataResult;
      compiled.release();
      return compiled.cachedData ?? null;
    } catch {
      return null;
    } finally {
      if (!isolate.isDisposed) isolate.dispose();
    }
  });
  return cache;
}

/** V8 turned the cache down (a different V8 or flags): stop offering it. */
export function dropRuntimeCodeCache(): void {
  cache = Promise.resolve(null);
}
