/**
 * defineFlow and the run's entry: the host calls start() once with the run's parameters;
 * it runs the bundle's default export and answers with a WireStartResult (as JSON).
 */
import type { WireStartResult } from "../protocol";
import { toError } from "./errors";

type ParamType = "string" | "number" | "boolean" | "hosts";
type ParamSpec = ParamType | { type: ParamType; default?: unknown; description?: string };
type FlowMeta = { name: string; params?: Record<string, ParamSpec> };
type FlowFn = (ctx: { params: Readonly<Record<string, unknown>> }) => Promise<unknown>;
type Flow = { readonly name: string };

const TYPES: readonly string[] = ["string", "number", "boolean", "hosts"];
const definitions = new WeakMap<Flow, { meta: FlowMeta; fn: FlowFn }>();

export function defineFlow(meta: FlowMeta, fn: FlowFn): Flow {
  if (typeof meta !== "object" || meta === null || typeof meta.name !== "string")
    throw new TypeError("defineFlow: meta needs a name");
  if (typeof fn !== "function") throw new TypeError("defineFlow: the second argument must be a function");
  for (const [name, spec] of Object.entries(meta.params ?? {})) {
    const type = typeof spec === "string" ? spec : spec?.type;
    if (!TYPES.includes(type as string))
      throw new TypeError(`defineFlow: parameter "${name}" has no valid type`);
  }
  const flow: Flow = Object.freeze({ name: meta.name });
  definitions.set(flow, { meta, fn });
  return flow;
}

function fits(type: ParamType, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "hosts":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
  }
}

/** The run's parameters checked against the flow's declaration, defaults applied. */
export function resolveParams(
  specs: Record<string, ParamSpec>,
  given: unknown,
): Readonly<Record<string, unknown>> {
  if (typeof given !== "object" || given === null || Array.isArray(given))
    throw new TypeError("the run's parameters must be an object");
  const input = given as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !Object.hasOwn(specs, k));
  if (unknown.length) throw new TypeError(`unknown parameter(s): ${unknown.join(", ")}`);
  const params: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const type = typeof spec === "string" ? spec : spec.type;
    const value = Object.hasOwn(input, name)
      ? input[name]
      : typeof spec === "string"
        ? undefined
        : spec.default;
    if (value === undefined || value === null) throw new TypeError(`missing parameter "${name}"`);
    if (!fits(type, value))
      throw new TypeError(
        `parameter "${name}" must be ${type === "hosts" ? "a list of host names" : `a ${type}`}`,
      );
    params[name] = Array.isArray(value) ? Object.freeze([...value]) : value;
  }
  return Object.freeze(params);
}

function describe(e: unknown): WireStartResult {
  const error = toError(e);
  return {
    ok: false,
    error: {
      name: error.name,
      message: error.message,
      stack: typeof error.stack === "string" ? error.stack : null,
    },
  };
}

/** Creates the start function; `exported` reads the bundle's default export at call time. */
export function createStart(exported: () => unknown) {
  let started = false;
  return async (paramsJson: string): Promise<string> => {
    let result: WireStartResult;
    try {
      if (started) throw new Error("the flow was already started");
      started = true;
      const definition = definitions.get(exported() as Flow);
      if (!definition)
        throw new TypeError("the bundle's default export is not a flow made with defineFlow()");
      const params = resolveParams(definition.meta.params ?? {}, JSON.parse(paramsJson));
      await definition.fn({ params });
      result = { ok: true };
    } catch (e) {
      result = describe(e);
    }
    return JSON.stringify(result);
  };
}
