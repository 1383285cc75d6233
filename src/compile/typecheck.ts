/**
 * Type-checks a flow against the SDK declarations with the compiler API, warm: lib and SDK
 * SourceFiles are parsed once and kept in the CompilerHost, and each program reuses the
 * previous one. Only the flow file's diagnostics are reported, plus the source policy's.
 *
 * Most flows are clean, and for them a whole new program is mostly waste: a new checker
 * re-merges the lib's globals and re-resolves Array, Promise and the SDK's types before it
 * reaches the flow. So a flow is first offered to the checker of the last program, which
 * has all that resolved (see warmCheckerSaysClean). Only its "clean" is taken; anything it
 * would report, and any source it cannot vouch for, is checked by a fresh program, whose
 * diagnostics are the answer, and whose checker is the warm one from then on.
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
  /** How the program parses the flow file (module detection, JSDoc mode): warm checks do the same. */
  private flowParseOptions: ts.CreateSourceFileOptions | null = null;
  private previous: ts.Program | undefined;
  /** The last program whose flow left the lib and the SDK as they are; its checker is the warm one. */
  private warmProgram: ts.Program | undefined;

  private warmEnabled: boolean;
  private readonly warmChecksPerProgram: number;
  private warmChecks = 0;
  /** How many checks the warm checker answered (clean) without a fresh program. */
  warmAnswers = 0;

  /**
   * `options` replaces FLOW_COMPILER_OPTIONS (tests use it to hunt dead code: noUnusedLocals);
   * `warm: false` checks every source with a fresh program, as the warm path is checked against.
   * `warmChecksPerProgram`: a checker keeps what it learnt about every flow it checked (node
   * and symbol links) and hands out only a few spelling suggestions in its life, so after
   * that many warm checks the next flow gets a fresh program (and the checker is replaced).
   */
  constructor(
    private readonly options: ts.CompilerOptions = FLOW_COMPILER_OPTIONS,
    { warm = true, warmChecksPerProgram = 50 }: { warm?: boolean; warmChecksPerProgram?: number } = {},
  ) {
    this.warmEnabled = warm && hasWarmInternals();
    this.warmChecksPerProgram = warmChecksPerProgram;
    this.libTexts = new Map(getLibFiles().map((f) => [`${LIB_DIR}/${f.fileName}`, f.text]));
    const sdkText = readFileSync(SDK_DECLARATIONS, "utf8");
    const texts = (name: string) =>
      name === SDK_FILE ? sdkText : name === FLOW_FILE ? this.flowSource : this.libTexts.get(name);
    this.host = {
      getSourceFile: (name, languageVersion) => {
        if (name === FLOW_FILE) {
          this.flowParseOptions = typeof languageVersion === "object" ? languageVersion : { languageVersion };
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
    if (this.warmCheckerSaysClean(source)) {
      this.warmAnswers++;
      return [];
    }
    return this.checkFresh(source);
  }

  /**
   * True only when the last program's checker found nothing at all to say about the source,
   * checked as a file of its own (parsed and bound here, under a name of its own). Flows are
   * modules that import only the ambient "intentflow:sdk" module, so nothing of one flow is
   * visible to the next: what the checker carries over is what it resolved of the lib and
   * the SDK, which never change.
   *
   * Sources a program would treat differently — `@ts-` comment directives, `/// <reference>`s,
   * augmentations (`declare global`, `declare module`) merged into the lib or the SDK,
   * scripts (whose declarations a program merges into the globals) — are not vouched for.
   */
  private warmCheckerSaysClean(source: string): boolean {
    const checker = this.warmProgram?.getTypeChecker() as CheckerInternals | undefined;
    if (!this.warmEnabled || !checker || !this.flowParseOptions) return false;
    if (this.warmChecks >= this.warmChecksPerProgram) return false;
    this.warmChecks++;
    const name = `/flow/warm-${this.warmChecks}/${SOURCE_FILENAME}`;
    const sf = ts.createSourceFile(name, source, this.flowParseOptions, true) as SourceFileInternals;
    if (sf.parseDiagnostics.length > 0 || sf.commentDirectives?.length || !standsAlone(sf)) return false;
    try {
      (ts as unknown as Internals).bindSourceFile(sf, this.options);
      if (sf.bindDiagnostics?.length) return false;
      if (checker.getDiagnostics(sf).some((d) => severity(d.category) !== null)) return false;
    } catch {
      // Should a TypeScript upgrade change these internals, every check takes the fresh
      // path: slower, never wrong.
      this.warmEnabled = false;
      return false;
    }
    return checkSourcePolicy(sf, checker).length === 0;
  }

  private checkFresh(source: string): Diagnostic[] {
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
    // A flow that brought in a lib or augmented the globals changed what its checker knows:
    // that checker must not judge the next flow.
    this.warmProgram = standsAlone(sf) ? program : undefined;
    this.warmChecks = 0;
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

/** Compiler internals the warm path uses (there since TypeScript 2). */
type Internals = { bindSourceFile(file: ts.SourceFile, options: ts.CompilerOptions): void };
type CheckerInternals = ts.TypeChecker & { getDiagnostics(file: ts.SourceFile): readonly ts.Diagnostic[] };
type SourceFileInternals = ts.SourceFile & {
  parseDiagnostics: readonly ts.Diagnostic[];
  bindDiagnostics?: readonly ts.Diagnostic[];
  commentDirectives?: readonly unknown[];
  checkJsDirectory?: unknown;
  externalModuleIndicator?: unknown;
};

function hasWarmInternals(): boolean {
  return typeof (ts as unknown as Partial<Internals>).bindSourceFile === "function";
}

/**
 * A module that adds nothing to what other files see: no `/// <reference>`s (files, types,
 * libs), no augmentations (`declare global`, `declare module`) merged into the lib or the
 * SDK. A script would merge its declarations into the globals.
 */
function standsAlone(sf: ts.SourceFile): boolean {
  const file = sf as SourceFileInternals;
  return (
    Boolean(file.externalModuleIndicator) &&
    !file.checkJsDirectory &&
    !sf.hasNoDefaultLib &&
    sf.referencedFiles.length === 0 &&
    sf.typeReferenceDirectives.length === 0 &&
    sf.libReferenceDirectives.length === 0 &&
    !sf.statements.some(ts.isModuleDeclaration)
  );
}
