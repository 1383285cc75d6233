/**
 * Source policy for flows (generated or edited by a reviewer): what a flow may not even
 * mention. The isolate is the real boundary — it has no Node APIs — so this is the early,
 * readable refusal pointing at the offending line, not the only wall.
 */
import { ts } from "ts-morph";
import type { Diagnostic } from "../store/types";
import { SDK_MODULE } from "./bundle";

/** Globals a flow may not reach, with the reason the reviewer sees. */
const FORBIDDEN_GLOBALS = new Map<string, string>([
  ["eval", "eval runs code built from strings"],
  ["Function", "the Function constructor runs code built from strings"],
  ["globalThis", "flows reach the outside only through the SDK"],
  ["require", "flows import only intentflow:sdk"],
  ["process", "flows have no access to the host process"],
  ["module", "flows have no module system besides intentflow:sdk"],
  ["exports", "flows have no module system besides intentflow:sdk"],
  ["global", "flows reach the outside only through the SDK"],
  ["window", "flows reach the outside only through the SDK"],
  ["self", "flows reach the outside only through the SDK"],
  ["Deno", "flows reach the outside only through the SDK"],
  ["Bun", "flows reach the outside only through the SDK"],
  ["__dirname", "flows have no file system"],
  ["__filename", "flows have no file system"],
  ["WebAssembly", "flows run TypeScript only"],
  ["fetch", "use the SDK's capabilities to reach machines"],
  ["XMLHttpRequest", "use the SDK's capabilities to reach machines"],
  ["console", "use log() from intentflow:sdk"],
  ["setTimeout", "use sleep() from intentflow:sdk"],
  ["setInterval", "use sleep() from intentflow:sdk"],
  ["setImmediate", "use sleep() from intentflow:sdk"],
  ["queueMicrotask", "flows have no timers"],
  ["crypto", "flows must be deterministic"],
  ["performance", "flows must be deterministic (no clock)"],
]);

const NONDETERMINISTIC = new Map<string, string>([
  ["Date.now", "Date.now() reads the clock"],
  ["Math.random", "Math.random() is not repeatable"],
]);

const REPLAY = "flows must be deterministic so a replayed run takes the same path";

export function checkSourcePolicy(sf: ts.SourceFile, checker: ts.TypeChecker): Diagnostic[] {
  const found: Diagnostic[] = [];
  const report = (node: ts.Node, code: string, message: string) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    found.push({ code, message, line: line + 1, column: character + 1, severity: "error" });
  };

  /** A global by that name, not a local binding that happens to share it. */
  const isGlobal = (id: ts.Identifier) => {
    const symbol = checker.getSymbolAtLocation(id);
    const declarations = symbol?.getDeclarations() ?? [];
    return declarations.length === 0 || declarations.every((d) => d.getSourceFile() !== sf);
  };

  const visit = (node: ts.Node): void => {
    // Types are erased: naming `Function` in a type annotation runs nothing.
    if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return;

    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      const spec = node.moduleSpecifier;
      if (spec && ts.isStringLiteral(spec) && spec.text !== SDK_MODULE)
        report(spec, "policy/import", `flows may import only "${SDK_MODULE}", not "${spec.text}"`);
    } else if (ts.isImportEqualsDeclaration(node)) {
      report(node, "policy/import", `flows may import only "${SDK_MODULE}"`);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, "policy/dynamic-import", "dynamic import() is not allowed in flows");
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      report(node, "policy/import-meta", "import.meta is not available in flows");
    } else if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const name = ts.isPropertyAccessExpression(node)
        ? node.name.text
        : ts.isStringLiteralLike(node.argumentExpression)
          ? node.argumentExpression.text
          : null;
      if (name === "constructor")
        report(
          ts.isPropertyAccessExpression(node) ? node.name : node.argumentExpression,
          "policy/constructor",
          "reaching .constructor is not allowed in flows (it leads to Function)",
        );
      const target = node.expression;
      if (name && ts.isIdentifier(target)) {
        // The name first: asking the checker about every `x.y` in a flow costs more than the rest.
        const reason = NONDETERMINISTIC.get(`${target.text}.${name}`);
        if (reason && isGlobal(target)) report(node, "policy/nondeterministic", `${reason}: ${REPLAY}`);
      }
    } else if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee) && callee.text === "Date" && isGlobal(callee) && !node.arguments?.length)
        report(
          node,
          "policy/nondeterministic",
          `${ts.isNewExpression(node) ? "new Date()" : "Date()"} reads the clock: ${REPLAY}`,
        );
    }

    if (ts.isIdentifier(node) && isValueReference(node)) {
      const reason = FORBIDDEN_GLOBALS.get(node.text);
      if (reason && isGlobal(node))
        report(node, "policy/global", `"${node.text}" is not allowed in flows: ${reason}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** An identifier that reads a binding, as opposed to naming a property or a declaration. */
function isValueReference(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent) && parent.name === id) return false;
  if (
    (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)) &&
    parent.name === id
  )
    return false;
  if (
    ts.isGetAccessor(parent) ||
    ts.isSetAccessor(parent) ||
    ts.isPropertySignature(parent) ||
    ts.isMethodSignature(parent)
  )
    return parent.name !== id;
  if (
    ts.isImportSpecifier(parent) ||
    ts.isExportSpecifier(parent) ||
    ts.isImportClause(parent) ||
    ts.isNamespaceImport(parent)
  )
    return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  if (ts.isQualifiedName(parent)) return false;
  if (
    (ts.isVariableDeclaration(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isBindingElement(parent) ||
      ts.isEnumMember(parent)) &&
    parent.name === id
  )
    return false;
  return true;
}
