/**
 * The in-isolate runtime, evaluated in each run's context before the flow bundle. It takes
 * the host's send Callback out of the global scope (flow code never sees it), hardens the
 * globals, installs the SDK object the bundle imports from, and leaves `deliver` and
 * `start` for the host to take (the host deletes them before the flow runs).
 */
import { GLOBALS } from "../protocol";
import { createGuestBridge } from "./bridge";
import { makeDeterministic } from "./determinism";
import { createStart } from "./flow";
import { createSdk } from "./sdk";

const global = globalThis as unknown as Record<string, unknown>;
const send = global[GLOBALS.send];
if (typeof send !== "function") throw new Error("intentflow runtime: the host bridge is missing");
Reflect.deleteProperty(global, GLOBALS.send);

makeDeterministic(globalThis);

const bridge = createGuestBridge(send as (json: string) => unknown);
Object.defineProperty(globalThis, GLOBALS.sdk, { value: createSdk(bridge), enumerable: false });
global[GLOBALS.deliver] = (id: number, json: string) => bridge.deliver(id, json);
global[GLOBALS.start] = createStart(
  () => (global[GLOBALS.flow] as { default?: unknown } | undefined)?.default,
);
