/**
 * Makes the isolate deterministic and bare before any flow code runs: a replayed run must
 * take the same path, so clocks and randomness throw instead of answering differently; and
 * what flows have no use for (console, WebAssembly, whose memory sits outside the heap
 * limit) is removed.
 */

function refuse(what: string): never {
  throw new Error(`${what} is not available in flows: a replayed run must take the same path`);
}

export function makeDeterministic(global: typeof globalThis): void {
  const RealDate = global.Date;
  const DeterministicDate = function (this: unknown, ...args: unknown[]) {
    if (!new.target) refuse("Date() (the current time)");
    if (args.length === 0) refuse("new Date() without arguments (the current time)");
    return Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperties(DeterministicDate, {
    prototype: { value: RealDate.prototype },
    UTC: { value: RealDate.UTC },
    parse: { value: RealDate.parse },
    now: { value: () => refuse("Date.now()") },
  });
  Object.defineProperty(RealDate.prototype, "constructor", { value: DeterministicDate });
  Object.defineProperty(RealDate, "now", { value: () => refuse("Date.now()") });
  Object.defineProperty(global, "Date", { value: DeterministicDate, writable: false, configurable: false });
  Object.defineProperty(global.Math, "random", { value: () => refuse("Math.random()"), writable: false });

  // SharedArrayBuffer and Atomics: shared memory and blocking waits; WeakRef and FinalizationRegistry:
  // behaviour that depends on when the collector runs, which a replay cannot repeat.
  for (const name of [
    "console",
    "WebAssembly",
    "SharedArrayBuffer",
    "Atomics",
    "WeakRef",
    "FinalizationRegistry",
  ])
    Reflect.deleteProperty(global, name);
}
