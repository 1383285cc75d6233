import ivm from "isolated-vm";
import { afterAll, describe, expect, it } from "vitest";
import { RUNTIME_FILENAME } from "../../sandbox/protocol";
import { compileSource } from "../../src/compile";
import { disposePrepared, runInIsolate } from "../../src/sandbox/isolate-run";
import { runtimeCodeCache, runtimeScript } from "../../src/sandbox/runtime-script";

afterAll(() => disposePrepared());

describe("the runtime's code cache (our own script only)", () => {
  it("is produced in this process and accepted by a fresh isolate for the same source", async () => {
    const cache = await runtimeCodeCache();
    expect(cache).not.toBeNull();
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      const script = (await isolate.compileScript(await runtimeScript(), {
        filename: RUNTIME_FILENAME,
        cachedData: cache!,
      })) as ivm.Script & { cachedDataRejected?: boolean };
      expect(script.cachedDataRejected).toBe(false);
    } finally {
      isolate.dispose();
    }
  });

  it("is turned down by V8 for another source", async () => {
    const cache = await runtimeCodeCache();
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      const script = (await isolate.compileScript("1 + 1", { cachedData: cache! })) as ivm.Script & {
        cachedDataRejected?: boolean;
      };
      expect(script.cachedDataRejected).toBe(true);
    } finally {
      isolate.dispose();
    }
  });

  it("leaves runs as they were: a flow still runs, in a fresh context each time", async () => {
    const out = await compileSource(
      'import { defineFlow, log } from "intentflow:sdk";\nexport default defineFlow({ name: "hello" }, async () => {\n  log("hello");\n});\n',
    );
    expect(out.diagnostics).toEqual([]);
    const logs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runInIsolate({
        bundle: out.bundle!,
        params: {},
        allowedHosts: [],
        call: async () => null,
        onEvent: (e) => void (e.type === "log" && logs.push(e.message)),
        limits: { memoryMb: 32, timeoutMs: 10_000 },
      });
      expect(r.status).toBe("succeeded");
    }
    expect(logs).toEqual(["hello", "hello", "hello"]);
  });
});
