/**
 * Type-checks a flow against the SDK declarations with the compiler API, warm: lib and SDK
 * SourceFiles are parsed once and kept in the CompilerHost, and each program reuses the
 * previous one. Only the flow file's diagnostics are reported, plus the source policy's.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getLibFiles } from "@ts-morph/common";
import { ts } from "ts-morph";
import { SOURCE_FILENAME } from "../../sandbox/protocol";
import type { Diagnostic } from "../store/types";
import { checkSourcePolicy } from "./policy";

const SDK_DECLARATIONS = fileURLToPath(new URL("../../sandbox/sdk.d.ts", import.meta.url));

const LIB_DIR = "/lib";
const SDK_FILE = "/sdk/sdk.d.ts";
const FLOW_FILE = `/flow/${SOURCE_FILENAME}`;

/** What flows are checked with: strict, ECMAScript built-ins only (no DOM, no Node types). */
export const FLOW_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts"],
  types: [],
  noEmit: true,
  skipLibCheck: true,
  isolatedModules: true,
  noFallthroughCasesInSwitch: true,
};

function severity(category: ts.DiagnosticCategory): Diagnostic["severity"] | null {
  if (category === ts.DiagnosticCategory.Error) return "error";
  if (category === ts.DiagnosticCategory.Warning) return "warning";
  return null;
}

export class FlowTypeChecker {
  private readonly fixedFiles = new Map<string, ts.SourceFile>();
  private readonly libTexts: Map<string, string>;
  private readonly host: ts.CompilerHost;
  private flowSource = "";
  private flowFile: ts.SourceFile | null = null;
  private previous: ts.Program | undefined;

  /** `options` adds to FLOW_COMPILER_OPTIONS (tests use it to hunt dead code: noUnusedLocals). */
  constructor(private readonly options: ts.CompilerOptions = FLOW_COMPILER_OPTIONS) {
    this.libTexts = new Map(getLibFiles().map((f) => [`${LIB_DIR}/${f.fileName}`, f.text]));
    const sdkText = readFileSync(SDK_DECLARATIONS, "utf8");
    const texts = (name: string) =>
      name === SDK_FILE ? sdkText : name === FLOW_FILE ? this.flowSource : this.libTexts.get(name);
    this.host = {
      getSourceFile: (name, languageVersion) => {
        if (name === FLOW_FILE) {
          this.flowFile ??= ts.createSourceFile(FLOW_FILE, this.flowSource, languageVersion, true);
          return this.flowFile;
        }
        const cached = this.fixedFiles.get(name);
        if (cached) return cached;
        const text = texts(name);
        if (text === undefined) return undefined;
        const file = ts.createSourceFile(name, text, languageVersion, true);
        this.fixedFiles.set(name, file);
        return file;
      },
      getDefaultLibFileName: () => `${LIB_DIR}/lib.es2022.d.ts`,
      getDefaultLibLocation: () => LIB_DIR,
      writeFile: () => {},
      getCurrentDirectory: () => "/flow",
      getCanonicalFileName: (f) => f,
      useCaseSensitiveFileNames: () => true,
      getNewLine: () => "\n",
      fileExists: (name) => texts(name) !== undefined,
      readFile: (name) => texts(name),
      directoryExists: (dir) => dir === LIB_DIR || dir === "/sdk" || dir === "/flow",
      getDirectories: () => [],
    };
  }

  check(source: string): Diagnostic[] {
    this.flowSource = source;
    this.flowFile = null;
    const program = ts.createProgram({
      rootNames: [SDK_FILE, FLOW_FILE],
      options: this.options,
      host: this.host,
      oldProgram: this.previous,
    });
    this.previous = program;
    const sf = program.getSourceFile(FLOW_FILE);
    if (!sf) throw new Error("the flow source was not loaded");
    const compiler = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].flatMap(
      (d) => {
        const level = severity(d.category);
        if (!level) return [];
        const { line, character } =
          d.start === undefined ? { line: 0, character: 0 } : sf.getLineAndCharacterOfPosition(d.start);
        return [
          {
            code: d.code,
            message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
            line: line + 1,
            column: character + 1,
            severity: level,
          },
        ];
      },
    );
    const policy = checkSourcePolicy(sf, program.getTypeChecker());
    // Where the policy explains a position ("process" is not allowed), the compiler's own
    // message about it ("Cannot find name 'process'. Do you need @types/node?") only misleads.
    const explained = new Set(policy.map((d) => `${d.line}:${d.column}`));
    return [...compiler.filter((d) => !explained.has(`${d.line}:${d.column}`)), ...policy].sort(
      (a, b) => a.line - b.line || a.column - b.column,
    );
  }
}
