/**
 * esbuild bundles a flow's TypeScript into one IIFE script plus an external source map.
 * "intentflow:sdk" is a module that reads the SDK the sandbox runtime installed; any other
 * import is refused here, whatever the source policy said.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Message, type Metafile, type Plugin } from "esbuild";
import { BUNDLE_FILENAME, GLOBALS, SDK_VALUE_EXPORTS, SOURCE_FILENAME } from "../../sandbox/protocol";
import type { Diagnostic } from "../store/types";

export const SDK_MODULE = "intentflow:sdk";

export type Bundle = { code: string; map: string; hash: string };
export type BundleResult = { bundle: Bundle | null; diagnostics: Diagnostic[] };

const sdkModuleSource = [
  `const sdk = globalThis[${JSON.stringify(GLOBALS.sdk)}];`,
  ...SDK_VALUE_EXPORTS.map((name) => `export const ${name} = sdk.${name};`),
  "",
].join("\n");

/** A RE2-safe pattern (esbuild filters are Go regexps: no lookahead) for any string but `text`. */
function anythingBut(text: string): RegExp {
  let rest = "[\\s\\S]+";
  for (const c of [...text].reverse()) {
    const e = c.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
    rest = `(?:$|[^${e}][\\s\\S]*|${e}${rest})`;
  }
  return new RegExp(`^${rest}`);
}

/**
 * "intentflow:sdk" is a small module file, written once per process under a name that hashes
 * its content and aliased by esbuild natively: resolving it calls no JavaScript, so a bundle
 * is built in esbuild's process while this thread type-checks. Bundles name it relative to its
 * directory (the working directory of the build), so they do not depend on where it lives.
 */
let sdkModuleDir: string | null = null;
function sdkModule(): { dir: string; file: string } {
  if (!sdkModuleDir) {
    const dir = join(tmpdir(), `intentflow-sdk-${sha256(sdkModuleSource).slice(0, 16)}`);
    const file = join(dir, SDK_FILE);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, sdkModuleSource);
      renameSync(temp, file);
    }
    sdkModuleDir = dir;
  }
  return { dir: sdkModuleDir, file: join(sdkModuleDir, SDK_FILE) };
}
const SDK_FILE = "intentflow-sdk.js";

/** Every import but "intentflow:sdk" reaches this plugin, and is refused. */
const sdkOnly: Plugin = {
  name: "intentflow-sdk-only",
  setup(b) {
    b.onResolve({ filter: anythingBut(SDK_MODULE) }, (args) => ({
      errors: [{ text: `flows may import only "${SDK_MODULE}", not "${args.path}"` }],
    }));
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

/**
 * Bundles a flow. The first build has no plugin: with any plugin at all, esbuild's process
 * waits on this thread during the build, which is busy type-checking the same flow, and the
 * bundle was ready only ~4 ms after the check instead of alongside it. That build's metafile
 * says what was imported, as written: when it is "intentflow:sdk" and nothing else, and the
 * build succeeded, it is the answer. Anything else — a refused import, an error — is built
 * again with the plugin, whose refusals name the import and its line.
 */
export async function bundleFlow(source: string): Promise<BundleResult> {
  const fast = await buildFlow(source, false);
  if (fast.bundle && fast.importsOnlySdk) return fast;
  return buildFlow(source, true);
}

async function buildFlow(
  source: string,
  refuseImports: boolean,
): Promise<BundleResult & { importsOnlySdk: boolean }> {
  const sdk = sdkModule();
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
      metafile: !refuseImports,
      plugins: refuseImports ? [sdkOnly] : [],
      alias: { [SDK_MODULE]: sdk.file },
      absWorkingDir: sdk.dir,
    });
    const code = out.outputFiles.find((f) => f.path.endsWith(".js"))?.text;
    const map = out.outputFiles.find((f) => f.path.endsWith(".map"))?.text;
    const warnings = out.warnings.map((w) => toDiagnostic(w, "warning"));
    const importsOnlySdk = refuseImports || (out.metafile !== undefined && onlySdkImported(out.metafile));
    if (code === undefined || map === undefined)
      return { bundle: null, diagnostics: warnings, importsOnlySdk };
    return { bundle: { code, map, hash: sha256(code) }, diagnostics: warnings, importsOnlySdk };
  } catch (e) {
    const failure = e as { errors?: Message[]; warnings?: Message[] };
    if (!Array.isArray(failure.errors)) throw e;
    return {
      bundle: null,
      diagnostics: [
        ...failure.errors.map((m) => toDiagnostic(m, "error")),
        ...(failure.warnings ?? []).map((m) => toDiagnostic(m, "warning")),
      ],
      importsOnlySdk: false,
    };
  }
}

/**
 * The flow's imports, of any kind (static, dynamic, require), were all "intentflow:sdk" as
 * written, and nothing else was read. (The flow comes in on stdin without a resolveDir, so
 * esbuild resolves no path but the SDK's alias today; this holds whatever a later esbuild does.)
 */
export function onlySdkImported(metafile: Metafile): boolean {
  const inputs = Object.entries(metafile.inputs);
  return (
    inputs.length <= 2 &&
    inputs.every(([name, input]) =>
      name === SOURCE_FILENAME
        ? input.imports.every((i) => i.original === SDK_MODULE && !i.external)
        : name === SDK_FILE && input.imports.length === 0,
    )
  );
}
