import type { Context, Hono } from "hono";
import { z } from "zod";
import type { Role } from "../config";
import { type AuthVariables, requireRole } from "./auth";
import { ApiError } from "./errors";

/**
 * One declaration per route: its path, who may call it, and the schemas of its inputs and
 * outputs. `mount` validates every input with those schemas before the handler runs, and
 * `openApiDocument` describes the same declarations, so validation and documentation agree.
 */

export type Env = { Variables: AuthVariables };
type Schema = z.ZodType | undefined;
type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export type ResponseSpec = { description: string; schema?: z.ZodType; contentType?: string };

export type Endpoint<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> = {
  method: "get" | "post";
  /** Hono syntax: `/v1/flows/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Minimum role; undefined for public routes (health, docs). */
  role?: Role;
  params?: P;
  query?: Q;
  body?: B;
  /** With an optional body, an empty request counts as `{}`. */
  bodyOptional?: boolean;
  /** `body` documents the shape, but the handler parses the raw JSON itself (for its own, finer errors). */
  rawBody?: boolean;
  responses: Record<number, ResponseSpec>;
  handle(
    input: { params: Infer<P>; query: Infer<Q>; body: Infer<B> },
    c: Context<Env>,
  ): Response | Promise<Response>;
};

export function endpoint<
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
>(e: Endpoint<P, Q, B>): Endpoint<P, Q, B> {
  return e;
}

/** Parses a value, or throws a 400 naming the field at fault. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where?: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [where, ...issue.path.map(String)].filter(Boolean).join(".");
  throw new ApiError(400, "invalid_body", `${path || "body"}: ${issue.message}`, path || undefined);
}

export async function readJson(req: Request, optional: boolean): Promise<unknown> {
  const type = req.headers.get("content-type");
  if (optional && !type && !req.headers.get("content-length")) return {};
  const text = await req.text();
  if (optional && !text.trim()) return {};
  if (!type?.includes("application/json"))
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  if (!text.trim()) throw new ApiError(400, "invalid_json", "the request body is empty");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
}

export function mount(app: Hono<Env>, e: Endpoint): void {
  app.on(e.method.toUpperCase(), e.path, async function handleEndpoint(c) {
    if (e.role) requireRole(c.get("actor"), e.role);
    const params = e.params ? parse(e.params, c.req.param(), "") : undefined;
    const query = e.query ? parse(e.query, c.req.query(), "query") : undefined;
    const raw = e.body ? await readJson(c.req.raw, Boolean(e.bodyOptional)) : undefined;
    const body = e.body && !e.rawBody ? parse(e.body, raw) : raw;
    return e.handle({ params, query, body } as never, c);
  });
}
