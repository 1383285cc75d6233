/**
 * Plan → TypeScript flow source. The skeleton comes from templates/flow.ts.tpl; ts-morph
 * adds the SDK imports and one block per plan step to it and formats the file. Output is a
 * pure function of (plan, targets): the same input gives byte-identical source.
 *
 * Semantics generated (the queue engine implements the same for linear plans):
 * - every normal step is an async block started at once that first awaits the steps it
 *   depends on, so steps run in dependency order and independent steps run concurrently;
 *   the flow ends with settleAll over every step (first failure in plan order wins);
 * - a host action fans out over the step's resolved hosts with forEachHost (concurrency:
 *   step.concurrency or DEFAULT_CONCURRENCY); log and sleep steps run once, without a host;
 * - a host's result is "succeeded" when the command exits 0 and "failed" otherwise
 *   (outcome rule, sandbox/sdk.d.ts); retry and timeoutMs become step options; `until`
 *   polls the action inside the step;
 * - `when` with perHost is tested per host against that host's result of the referenced
 *   step (hosts where it is false are recorded skipped); without perHost it holds when it
 *   holds for any of the referenced step's results;
 * - onError: "fail" (default) → requireSuccess after all hosts finished; "continue" → the
 *   failure is recorded and the flow goes on; "compensate" → the handler steps run (inline,
 *   in order), then the flow fails. A step whose results a later `when` tests does not fail
 *   the flow under "fail": the failure is the outcome being tested (check → restart).
 */
import { ts } from "ts-morph";
import { HOST_ACTIONS, type Param, type Plan, type Step, topologicalOrder } from "../plan/schema";
import {
  type CodegenProblem,
  conditionCall,
  describeCondition,
  literal,
  message,
  powershellScript,
  shellCommand,
  type TextScope,
  url,
} from "./expressions";
import { stepNames } from "./names";
import { COMMENT_WIDTH, loadTemplate, renderTemplate, wrapWords } from "./template";

export type { CodegenProblem } from "./expressions";

export const DEFAULT_CONCURRENCY = 10;
const TEMPLATE = "flow.ts.tpl";
const MAX_LINE = 100;
const FLOW_FILE = "/flow.ts";

export class CodegenError extends Error {
  constructor(readonly problems: CodegenProblem[]) {
    super(
      `the plan cannot be compiled: ${problems.map((p) => (p.stepId ? `step "${p.stepId}": ${p.message}` : p.message)).join("; ")}`,
    );
    this.name = "CodegenError";
  }
}

/** Indented lines of code; ts-morph inserts and formats them. */
class Lines {
  private readonly out: string[] = [];
  private depth = 0;
  line(text = ""): this {
    this.out.push(text ? "  ".repeat(this.depth) + text : "");
    return this;
  }
  comment(text: string): this {
    for (const l of wrapWords(text, COMMENT_WIDTH - this.depth * 2)) this.line(`// ${l}`.trimEnd());
    return this;
  }
  /** Whether `text` fits on one line here (the flow body adds one level when inserted). */
  fits(text: string): boolean {
    return (this.depth + 1) * 2 + text.length <= MAX_LINE;
  }
  indented(fn: () => void): this {
    this.depth += 1;
    fn();
    this.depth -= 1;
    return this;
  }
  toString(): string {
    return this.out.join("\n");
  }
}

type Context = {
  plan: Plan;
  byId: Map<string, Step>;
  names: Map<string, string>;
  targets: Readonly<Record<string, readonly string[] | undefined>>;
  params: Map<string, Param>;
  /** Steps whose results a later step's `when` tests. */
  tested: Map<string, string[]>;
  imports: Set<string>;
  /** Helpers from templates/results/ the flow uses, appended after it. */
  helpers: Set<string>;
  problems: CodegenProblem[];
};

const list = (values: readonly string[]) => `[${values.map(literal).join(", ")}]`;
const isHostStep = (s: Step) => HOST_ACTIONS.includes(s.action.kind);
const results = (ctx: Context, id: string) => `${ctx.names.get(id)}Results`;

export class FlowCodegen {
  /** `template` replaces templates/flow.ts.tpl (tests, alternative skeletons). */
  constructor(private readonly options: { template?: string } = {}) {}

  generate(plan: Plan, targets: Record<string, string[]>): string {
    const ctx = analyse(plan, targets);
    const body = new Lines();
    const normal = topologicalOrder(plan).filter((s) => s.trigger === "normal");
    for (const s of normal) {
      writeNormalStep(body, s, ctx);
      body.line();
    }
    const unused = plan.steps.filter(
      (h) => h.trigger === "on_error" && !plan.steps.some((s) => s.onError?.steps?.includes(h.id)),
    );
    for (const h of unused)
      body.comment(`${h.id} is an on_error handler that no step's onError names: it never runs.`);
    if (unused.length) body.line();
    ctx.imports.add("settleAll");
    body.line(`await settleAll([${normal.map((s) => ctx.names.get(s.id)).join(", ")}]);`);
    if (ctx.problems.length) throw new CodegenError(ctx.problems);
    return this.assemble(plan, ctx, body.toString());
  }

  private assemble(plan: Plan, ctx: Context, body: string): string {
    const skeleton = renderTemplate(this.options.template ?? loadTemplate(TEMPLATE), {
      title: plan.title,
      intent: plan.intent,
      meta: flowMeta(plan),
      context: plan.params.length ? "{ params }" : "",
    });
    const { imports, flowBody } = skeletonSlots(skeleton);
    const names = [...new Set([...imports.names, ...ctx.imports])].sort();
    const inline = `{ ${names.join(", ")} }`;
    const namedImports =
      `import ${inline} from "intentflow:sdk";`.length <= MAX_LINE
        ? inline
        : `{\n${names.map((n) => `  ${n},`).join("\n")}\n}`;
    const indentedBody = body
      .split("\n")
      .map((l) => (l ? `  ${l}` : l))
      .join("\n");
    const helpers = [...ctx.helpers].sort().map((h) => loadTemplate(`results/${h}.ts.tpl`).trimEnd());
    const out =
      skeleton.slice(0, imports.start) +
      namedImports +
      skeleton.slice(imports.end, flowBody.start) +
      `{\n${indentedBody}\n}` +
      skeleton.slice(flowBody.end).trimEnd() +
      (helpers.length ? `\n\n${helpers.join("\n\n")}` : "");
    return `${out}\n`;
  }
}

type Span = { start: number; end: number };

/**
 * Where the skeleton takes the SDK's named imports and the flow's statements. The rendered
 * template is parsed with the compiler API ts-morph ships: the positions come from its
 * syntax tree, and the generated text is spliced in there. (ts-morph's manipulation API
 * re-parsed and re-formatted the whole file several times per compile; this is one parse
 * of the skeleton, whose formatting the template already fixes.)
 */
function skeletonSlots(skeleton: string): { imports: Span & { names: string[] }; flowBody: Span } {
  const sf = ts.createSourceFile(FLOW_FILE, skeleton, ts.ScriptTarget.ES2022, true);
  const sdkImport = sf.statements.find(
    (s): s is ts.ImportDeclaration =>
      ts.isImportDeclaration(s) &&
      ts.isStringLiteral(s.moduleSpecifier) &&
      s.moduleSpecifier.text === "intentflow:sdk",
  );
  const bindings = sdkImport?.importClause?.namedBindings;
  if (!bindings || !ts.isNamedImports(bindings))
    throw new Error(`${TEMPLATE} must import named values from "intentflow:sdk"`);
  let flowFn: ts.ArrowFunction | null = null;
  const find = (node: ts.Node): void => {
    if (flowFn) return;
    if (ts.isCallExpression(node) && node.expression.getText(sf) === "defineFlow") {
      const fn = node.arguments[1];
      if (fn && ts.isArrowFunction(fn) && ts.isBlock(fn.body)) flowFn = fn;
    }
    ts.forEachChild(node, find);
  };
  find(sf);
  const block = (flowFn as ts.ArrowFunction | null)?.body;
  if (!block || !ts.isBlock(block) || block.statements.length)
    throw new Error(`${TEMPLATE} must export defineFlow(meta, async (...) => {}) with an empty body`);
  return {
    imports: {
      start: bindings.getStart(sf),
      end: bindings.getEnd(),
      names: bindings.elements.map((e) => e.name.text),
    },
    flowBody: { start: block.getStart(sf), end: block.getEnd() },
  };
}

function analyse(plan: Plan, targets: Record<string, string[]>): Context {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const tested = new Map<string, string[]>();
  for (const s of plan.steps) if (s.when) tested.set(s.when.step, [...(tested.get(s.when.step) ?? []), s.id]);
  const ctx: Context = {
    plan,
    byId,
    names: stepNames(plan.steps.map((s) => s.id)),
    targets: Object.fromEntries(plan.steps.filter(isHostStep).map((s) => [s.id, targets[s.id]])),
    params: new Map(plan.params.map((p) => [p.name, p])),
    tested,
    imports: new Set(),
    helpers: new Set(),
    problems: [],
  };
  for (const s of plan.steps) {
    const problem = (message: string) => ctx.problems.push({ stepId: s.id, message });
    const kind = s.action.kind;
    if (isHostStep(s) && !targets[s.id]?.length) problem("no hosts matched this step's targets");
    if (s.until && !isHostStep(s)) problem(`until needs a step that runs on hosts, not a ${kind} step`);
    for (const d of s.dependsOn) {
      if (s.trigger === "normal" && byId.get(d)?.trigger === "on_error")
        problem(`depends on "${d}", an on_error handler that runs only during compensation`);
    }
    for (const h of s.onError?.steps ?? []) {
      const blocked = byId.get(h)?.dependsOn.filter((d) => d !== s.id && dependsOnStep(byId, d, s.id));
      if (blocked?.length)
        problem(
          `handler "${h}" depends on ${blocked.map((b) => `"${b}"`).join(", ")}, which can only run after this step`,
        );
    }
  }
  return ctx;
}

/** true when `id` (transitively) depends on `on`. */
function dependsOnStep(byId: Map<string, Step>, id: string, on: string, seen = new Set<string>()): boolean {
  if (seen.has(id)) return false;
  seen.add(id);
  const s = byId.get(id);
  return !!s && s.dependsOn.some((d) => d === on || dependsOnStep(byId, d, on, seen));
}

function flowMeta(plan: Plan): string {
  if (!plan.params.length) return `{ name: ${literal(plan.title)} }`;
  const params = plan.params.map((p) => {
    const parts = [`type: ${literal(p.type)}`];
    if (p.default !== null)
      parts.push(`default: ${Array.isArray(p.default) ? list(p.default) : literal(p.default)}`);
    if (p.description) parts.push(`description: ${literal(p.description)}`);
    return `    ${p.name}: { ${parts.join(", ")} },`;
  });
  return ["{", `  name: ${literal(plan.title)},`, "  params: {", ...params, "  },", "}"].join("\n");
}

/** The reviewer's summary of a step, above its block. */
function describeStep(s: Step, ctx: Context, caller: Step | null): string[] {
  const lines = [`── ${s.id}: ${s.name}${caller ? ` (on error of ${caller.id})` : ""}`];
  if (s.description) lines.push(s.description);
  const hosts = ctx.targets[s.id];
  lines.push(
    hosts
      ? `On ${hosts.join(", ")} (${s.concurrency ?? DEFAULT_CONCURRENCY} at a time).`
      : "Runs once, without a host.",
  );
  if (s.dependsOn.length) lines.push(`After ${s.dependsOn.join(", ")}.`);
  if (s.when)
    lines.push(
      `When ${describeCondition(s.when)}${s.when.perHost && hosts ? " on the same host" : " on any host"}.`,
    );
  if (s.until)
    lines.push(
      `Until ${describeCondition(s.until)}, every ${s.until.intervalMs} ms for up to ${s.until.timeoutMs} ms.`,
    );
  if (s.retry)
    lines.push(`Retry: ${s.retry.attempts} attempts, ${s.retry.backoffMs} ms backoff ×${s.retry.factor}.`);
  if (s.timeoutMs) lines.push(`Each command times out after ${s.timeoutMs} ms.`);
  return lines;
}

function stepOptions(s: Step, perHost: boolean): string {
  const parts = perHost ? ["host"] : [];
  if (s.retry)
    parts.push(
      `retry: { attempts: ${s.retry.attempts}, backoffMs: ${s.retry.backoffMs}, factor: ${s.retry.factor} }`,
    );
  if (s.timeoutMs) parts.push(`timeoutMs: ${s.timeoutMs}`);
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}

/** One expression, as lines: a call to `helper` whose options object is spread when long. */
type ActionCode = { lines: string[]; async: boolean };

const WRAP_AT = 64;

/**
 * `helper(await call, ...rest)`: a capability result turned into a step result by a helper
 * from templates/results/. A call with a long options object gets one option per line.
 */
function wrapped(ctx: Context, helper: string, callee: string, options: string[], rest = ""): ActionCode {
  ctx.helpers.add(helper);
  const inline = `${helper}(await ${callee}(${options.length > 1 ? `{ ${options.join(", ")} }` : options.join("")})${rest})`;
  if (inline.length <= WRAP_AT || options.length < 2) return { lines: [inline], async: true };
  return {
    lines: [
      `${helper}(`,
      `  await ${callee}({`,
      ...options.map((o) => `    ${o},`),
      `  })${rest ? "," : ""}`,
      ...(rest ? [`  ${rest.replace(/^, /, "")},`] : []),
      ")",
    ],
    async: true,
  };
}

/** The call that performs a step's action once (on `host`, when the step has hosts). */
function actionCall(s: Step, scope: TextScope, ctx: Context): ActionCode {
  const a = s.action;
  const plain = (call: string): ActionCode => ({ lines: [call], async: false });
  switch (a.kind) {
    case "ssh":
      ctx.imports.add("ssh").add("sh");
      return plain(`ssh.exec(host, ${shellCommand(a.command, scope)})`);
    case "powershell":
      ctx.imports.add("powershell").add("ps");
      return plain(`powershell.run(host, ${powershellScript(a.script, scope)})`);
    case "http": {
      ctx.imports.add("http");
      const target = url(a.url, scope);
      if (target.startsWith("uri`")) ctx.imports.add("uri");
      const options = ["host", `method: ${literal(a.method)}`, `url: ${target}`];
      if (a.body !== null) options.push(`body: ${message(a.body, scope)}`);
      const expect = a.expectStatus === null ? "" : `, ${a.expectStatus}`;
      return wrapped(ctx, "httpResult", "http.request", options, expect);
    }
    case "net":
      ctx.imports.add("net");
      if (a.check === "dns") return wrapped(ctx, "dnsResult", "net.dns", ["host"]);
      if (a.check === "tcp") return wrapped(ctx, "netResult", "net.tcp", [`host, ${a.port ?? 0}`]);
      return wrapped(ctx, "netResult", "net.ping", ["host"]);
    case "notify":
      ctx.imports.add("notify");
      return plain(`notify(${literal(a.channel)}, ${message(a.message, scope)})`);
    case "log":
      ctx.imports.add("log");
      return plain(`log(${message(a.message, scope)})`);
    case "sleep":
      ctx.imports.add("sleep");
      return plain(`sleep(${a.ms})`);
  }
}

/** The step's function body as lines of code (one line, or several for poll). */
function actionLines(s: Step, scope: TextScope, ctx: Context): ActionCode {
  const action = actionCall(s, scope, ctx);
  if (!s.until) return action;
  ctx.imports.add("poll").add("holds");
  const [first, ...more] = action.lines;
  const fn = `${action.async ? "async " : ""}() =>`;
  return {
    lines: [
      "poll(",
      ...(more.length
        ? [`  ${fn}`, ...action.lines.map((l, i) => `    ${l}${i === more.length ? "," : ""}`)]
        : [`  ${fn} ${first},`]),
      `  (r) => ${conditionCall("r", s.until, s.id, ctx.problems)},`,
      `  { intervalMs: ${s.until.intervalMs}, timeoutMs: ${s.until.timeoutMs} },`,
      ")",
    ],
    async: false,
  };
}

/** `step(...)` for one host (or none); `suffix` ends its last line. */
function writeStepCall(
  out: Lines,
  s: Step,
  scope: TextScope,
  ctx: Context,
  prefix: string,
  suffix: string,
): void {
  ctx.imports.add("step");
  const { lines: action, async } = actionLines(s, scope, ctx);
  const head = `${prefix}step(${literal(s.id)}, ${stepOptions(s, scope.perHost)}, ${async ? "async " : ""}() =>`;
  const oneLine = `${head} ${action[0]})${suffix}`;
  if (action.length === 1 && out.fits(oneLine)) {
    out.line(oneLine);
    return;
  }
  const body = () => action.forEach((l, i) => out.line(i === action.length - 1 ? `${l},` : l));
  if (out.fits(head)) {
    out.line(head).indented(body);
    out.line(`)${suffix}`);
    return;
  }
  // Long options: one argument per line.
  out.line(`${prefix}step(`).indented(() => {
    out.line(`${literal(s.id)},`).line(`${stepOptions(s, scope.perHost)},`);
    out.line(`${async ? "async " : ""}() =>`).indented(body);
  });
  out.line(`)${suffix}`);
}

/** `return skip(...)`, one argument per line when long. */
function writeSkip(out: Lines, s: Step, perHost: boolean, reason: string): void {
  const args = [literal(s.id), perHost ? "{ host }" : "{}", literal(reason)];
  const inline = `return skip(${args.join(", ")});`;
  if (out.fits(inline)) {
    out.line(inline);
    return;
  }
  out.line("return skip(").indented(() => args.forEach((a) => out.line(`${a},`)));
  out.line(");");
}

/** `const hosts = [...]`, wrapped when long: the reviewer sees every host the step reaches. */
function writeHosts(out: Lines, hosts: readonly string[]): void {
  const inline = `const hosts = ${list(hosts)};`;
  if (out.fits(inline)) {
    out.line(inline);
    return;
  }
  out.line("const hosts = [").indented(() => {
    let row = "";
    for (const h of hosts.map((h) => `${literal(h)},`)) {
      if (row && !out.fits(`${row} ${h}`)) {
        out.line(row);
        row = "";
      }
      row = row ? `${row} ${h}` : h;
    }
    if (row) out.line(row);
  });
  out.line("];");
}

/**
 * `const xResults = await forEachHost(...)` (or `await once(...)`) for one step, with its
 * condition. `bound` maps dependency ids to the result variables in scope.
 */
function writeRun(out: Lines, s: Step, ctx: Context, bound: Map<string, string>, assign: boolean): void {
  const hosts = ctx.targets[s.id];
  const perHost = !!hosts;
  const scope: TextScope = {
    stepId: s.id,
    perHost,
    hosts: hosts ?? [],
    params: ctx.params,
    results: bound,
    stepHosts: ctx.targets,
    problems: ctx.problems,
    imports: ctx.imports,
  };
  if (hosts) writeHosts(out, hosts);
  const target = assign ? `const ${results(ctx, s.id)} = ` : "";
  const fanOut = perHost
    ? `await forEachHost(hosts, { concurrency: ${s.concurrency ?? DEFAULT_CONCURRENCY} }, (host) =>`
    : "await once(() =>";
  ctx.imports.add(perHost ? "forEachHost" : "once");

  if (!s.when) {
    out.line(`${target}${fanOut}`).indented(() => writeStepCall(out, s, scope, ctx, "", ","));
    out.line(");");
    return;
  }
  const subjectVar = bound.get(s.when.step) ?? "undefined";
  const perHostCondition = s.when.perHost && perHost;
  ctx.imports.add("holds").add("skip");
  if (perHostCondition) ctx.imports.add("resultOn");
  else
    out.line(
      `const whenHolds = ${subjectVar}.some((r) => ${conditionCall("r", s.when, s.id, ctx.problems)});`,
    );
  const reason = `${describeCondition(s.when)} does not hold${perHostCondition ? " on this host" : ""}`;
  out.line(`${target}${fanOut} {`).indented(() => {
    const test = perHostCondition
      ? conditionCall(`resultOn(${subjectVar}, host)`, s.when!, s.id, ctx.problems)
      : "whenHolds";
    out.line(`if (!${test})`).indented(() => writeSkip(out, s, perHost, reason));
    writeStepCall(out, s, scope, ctx, "return ", ";");
  });
  out.line("});");
}

/** Awaits the step's dependencies; binds the results of those it reads. */
function writeDependencies(
  out: Lines,
  s: Step,
  ctx: Context,
  bound: Map<string, string>,
  skip: Set<string>,
): void {
  const texts = JSON.stringify(s.action);
  for (const d of s.dependsOn) {
    if (skip.has(d)) continue;
    const read = s.when?.step === d || new RegExp(`\\{\\{\\s*steps\\.${d}\\.`).test(texts);
    if (read) {
      out.line(`const ${results(ctx, d)} = await ${ctx.names.get(d)};`);
      bound.set(d, results(ctx, d));
    } else out.line(`await ${ctx.names.get(d)};`);
  }
}

function writeNormalStep(out: Lines, s: Step, ctx: Context): void {
  for (const l of describeStep(s, ctx, null)) out.comment(l);
  out.line(`const ${ctx.names.get(s.id)} = (async () => {`).indented(() => {
    const bound = new Map<string, string>();
    writeDependencies(out, s, ctx, bound, new Set());
    writeRun(out, s, ctx, bound, true);
    writeErrorPolicy(out, s, ctx, bound);
    out.line(`return ${results(ctx, s.id)};`);
  });
  out.line("})();");
}

function writeErrorPolicy(out: Lines, s: Step, ctx: Context, bound: Map<string, string>): void {
  const mine = results(ctx, s.id);
  const mode = s.onError?.mode ?? "fail";
  if (mode === "continue") {
    out.comment("onError continue: failures are recorded and the flow goes on.");
    return;
  }
  if (mode === "compensate") {
    ctx.imports.add("anyFailed").add("requireSuccess");
    out.line(`if (anyFailed(${mine})) {`).indented(() => {
      out.comment(`onError compensate: run ${(s.onError?.steps ?? []).join(", ")}, then fail the flow.`);
      for (const h of s.onError?.steps ?? []) {
        const handler = ctx.byId.get(h);
        if (handler) writeHandler(out, handler, s, ctx, new Map([...bound, [s.id, mine]]));
      }
      out.line(`requireSuccess(${literal(s.id)}, ${mine});`);
    });
    out.line("}");
    return;
  }
  const testers = ctx.tested.get(s.id);
  if (testers?.length) {
    out.comment(
      `${testers.join(", ")} test${testers.length > 1 ? "" : "s"} these results: a failure here is an outcome, not an error.`,
    );
    return;
  }
  ctx.imports.add("requireSuccess");
  out.line(`requireSuccess(${literal(s.id)}, ${mine});`);
}

/** A compensation handler, inline in the failing step: it reads that step's results directly. */
function writeHandler(out: Lines, h: Step, caller: Step, ctx: Context, inScope: Map<string, string>): void {
  for (const l of describeStep(h, ctx, caller)) out.comment(l);
  out.line("{").indented(() => {
    const bound = new Map<string, string>();
    for (const d of h.dependsOn) {
      const existing = inScope.get(d);
      if (existing) bound.set(d, existing);
    }
    writeDependencies(out, h, ctx, bound, new Set(bound.keys()));
    writeRun(out, h, ctx, bound, false);
  });
  out.line("}");
}
