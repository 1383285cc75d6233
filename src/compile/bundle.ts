/**
 * esbuild bundles a flow's TypeScript into one IIFE script plus an external source map.
 * "intentflow:sdk" is served as a virtual module that reads the SDK the sandbox runtime
 * installed; any other import is refused here, whatever the source policy said.
 */
import { createHash } from "node:crypto";
import { build, type Message, type Plugin } from "esbuild";
import { BUNDLE_FILENAME, GLOBALS, SDK_VALUE_EXPORTS, SOURCE_FILENAME } from "../../sandbox/protocol";
import type { Diagnostic } from "../store/types";

export const SDK_MODULE = "intentflow:sdk";
const SDK_NAMESPACE = "intentflow-sdk";

export type Bundle = { code: string; map: string; hash: string };
export type BundleResult = { bundle: Bundle | null; diagnostics: Diagnostic[] };

const sdkModuleSource = [
  `const sdk = globalThis[${JSON.stringify(GLOBALS.sdk)}];`,
  ...SDK_VALUE_EXPORTS.map((name) => `export const ${name} = sdk.${name};`),
].join("\n");

const sdkOnly: Plugin = {
  name: "intentflow-sdk-only",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.path === SDK_MODULE) return { path: SDK_MODULE, namespace: SDK_NAMESPACE };
      return { errors: [{ text: `flows may import only "${SDK_MODULE}", not "${args.path}"` }] };
    });
    b.onLoad({ filter: /.*/, namespace: SDK_NAMESPACE }, () => ({ contents: sdkModuleSource, loader: "js" }));
  },
};

function toDiagnostic(m: Message, severity: Diagnostic["severity"]): Diagnostic {
  return {
    code: "bundle",
    message: m.text,
    line: m.location?.line ?? 1,
    column: (m.location?.column ?? 0) + 1,
    severity,
  };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function bundleFlow(source: string): Promise<BundleResult> {
  try {
    const out = await build({
      stdin: { contents: source, loader: "ts", sourcefile: SOURCE_FILENAME },
      bundle: true,
      write: false,
      format: "iife",
      globalName: GLOBALS.flow,
      platform: "neutral",
      target: "es2022",
      sourcemap: "external",
      outfile: BUNDLE_FILENAME,
      legalComments: "none",
      charset: "utf8",
      logLevel: "silent",
      plugins: [sdkOnly],
    });
    const code = out.outputFiles.find((f) => f.path.endsWith(".js"))?.text;
    const map = out.outputFiles.find((f) => f.path.endsWith(".map"))?.text;
    const warnings = out.warnings.map((w) => toDiagnostic(w, "warning"));
    if (code === undefined || map === undefined) return { bundle: null, diagnostics: warnings };
    return { bundle: { code, map, hash: sha256(code) }, diagnostics: warnings };
  } catch (e) {
    const failure = e as { errors?: Message[]; warnings?: Message[] };
    if (!Array.isArray(failure.errors)) throw e;
    return {
      bundle: null,
      diagnostics: [
        ...failure.errors.map((m) => toDiagnostic(m, "error")),
        ...(failure.warnings ?? []).map((m) => toDiagnostic(m, "warning")),
      ],
    };
  }
}
