import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { ApiKey, Role } from "../config";
import type { Actor } from "../review/approve";
import { ApiError } from "./errors";

export type AuthVariables = { actor: Actor };

const RANK: Record<Role, number> = { requester: 0, reviewer: 1, admin: 2 };

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * With keys configured every /v1 request needs one (Bearer or X-API-Key). With none the
 * service listens on loopback only, and the local user acts as admin.
 */
export function authenticate(keys: readonly ApiKey[]): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function authenticateRequest(c, next) {
    if (!keys.length) {
      c.set("actor", { name: "local", role: "admin" });
      return next();
    }
    const header = c.req.header("authorization");
    const given = header?.startsWith("Bearer ") ? header.slice(7) : c.req.header("x-api-key");
    const match = given ? keys.find((k) => sameKey(k.key, given)) : undefined;
    if (!match)
      throw new ApiError(401, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)");
    c.set("actor", { name: match.name, role: match.role });
    return next();
  };
}

export function requireRole(actor: Actor, role: Role): void {
  if (RANK[actor.role] < RANK[role])
    throw new ApiError(403, "forbidden", `${actor.name} has the ${actor.role} role; this needs ${role}`);
}
