/**
 * Runs a hostile flow the way a real one runs (source → compileSource → bundle → runFlow) and
 * also bundled straight past the source policy, so that the isolate itself is what is tested.
 * The host carries tripwires a successful escape would touch: a marker file path, a secret in
 * this process's environment, and a host global.
 */
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { compileSource } from "../../../src/compile";
import { bundleFlow } from "../../../src/compile/bundle";
import { type RunFlowOptions, type RunFlowResult, runFlow } from "../../../src/sandbox/runner";
import { simulatedHosts } from "../simulated-hosts";

export const MARKER = join(tmpdir(), `intentflow-hostile-${process.pid}`);
export const SECRET = `s3cret-${process.pid}-planted-in-the-parent`;
process.env.INTENTFLOW_TEST_SECRET = SECRET;

/** Prepended to every hostile flow: what it does with anything that looks like `process`. */
const PRELUDE = `
import { defineFlow, fail, http, log, net, notify, powershell, sh, sleep, ssh, step } from "intentflow:sdk";
const MARKER = ${JSON.stringify(MARKER)};
function pwn(p: any): void {
  const fs = p?.getBuiltinModule?.("fs") ?? p?.mainModule?.require?.("fs");
  fs.writeFileSync(MARKER, String(p?.env?.INTENTFLOW_TEST_SECRET));
  // Spelled so the source policy (which refuses ".constructor") lets the checked path run too.
  const F = p["constr" + "uctor"]["constr" + "uctor"];
  F("return globalThis")().__intentflowPwned = true;
}
void [fail, http, log, net, notify, powershell, sh, sleep, ssh, step, pwn];
`;

export const plainFlow = (body: string) =>
  `import { defineFlow, ssh, step } from "intentflow:sdk";\nexport default defineFlow({ name: "plain" }, async () => {\n${body}\n});\n`;

export const hostileFlow = (body: string) =>
  `${PRELUDE}\nexport default defineFlow({ name: "hostile" }, async () => {\n${body}\n  fail("contained");\n});\n`;

export type Outcome = { path: string; result: RunFlowResult; leaked: boolean };

export const HOSTILE_LIMITS: RunFlowOptions["limits"] = {
  memoryMb: 32,
  timeoutMs: 1_000,
  cpuMs: 500,
  maxCalls: 200,
  maxOutputBytes: 1024 * 1024,
  maxLogBytes: 256 * 1024,
};

async function runOne(
  path: string,
  bundle: string,
  isolation: RunFlowOptions["isolation"],
): Promise<Outcome> {
  const hosts = simulatedHosts(() => ({ exitCode: 0, stdout: "ok\n" }));
  const result = await runFlow({
    bundle,
    params: {},
    allowedHosts: ["web1"],
    call: hosts.call,
    onEvent: hosts.onEvent,
    limits: HOSTILE_LIMITS,
    isolation,
  });
  const leaked = JSON.stringify([hosts.events, hosts.calls, result]).includes(SECRET);
  return { path, result, leaked };
}

/** Every way the flow can reach the sandbox; in-process too unless the flow may abort V8. */
export async function runHostile(body: string, options: { inProcess?: boolean } = {}): Promise<Outcome[]> {
  const source = hostileFlow(body);
  const runs: Promise<Outcome>[] = [];
  const checked = await compileSource(source);
  if (checked.bundle) runs.push(runOne("checked", checked.bundle, "process"));
  else expect(checked.diagnostics.some((d) => d.severity === "error")).toBe(true);
  const unchecked = await bundleFlow(source);
  expect(unchecked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  runs.push(runOne("unchecked/process", unchecked.bundle!.code, "process"));
  if (options.inProcess !== false)
    runs.push(runOne("unchecked/in-process", unchecked.bundle!.code, "in-process"));
  // At once: runs at the same time never share an isolate, and limits are per run.
  const outcomes = await Promise.all(runs);
  return outcomes;
}

/** The host is as it was: no marker, the secret unchanged and not leaked, no globals touched. */
export function expectHostIntact(outcomes: Outcome[]): void {
  expect(existsSync(MARKER)).toBe(false);
  expect(process.env.INTENTFLOW_TEST_SECRET).toBe(SECRET);
  expect((globalThis as Record<string, unknown>).__intentflowPwned).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
  for (const o of outcomes) expect(o.leaked, `${o.path} leaked the secret`).toBe(false);
}

export function cleanMarker(): void {
  rmSync(MARKER, { force: true });
}
