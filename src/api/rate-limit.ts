import type { MiddlewareHandler } from "hono";
import type { Env } from "./endpoint";
import { ApiError } from "./errors";

/**
 * A token bucket per API key (per actor name): `perMinute` requests a minute on average, up
 * to `perMinute` at once. Over the limit the answer is 429 with Retry-After.
 */
export function rateLimit(perMinute: number): MiddlewareHandler<Env> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = perMinute / 60_000;
  return async function limitRate(c, next) {
    const who = c.get("actor").name;
    const now = Date.now();
    const b = buckets.get(who) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * refillPerMs);
    b.at = now;
    buckets.set(who, b);
    if (b.tokens < 1) {
      const wait = Math.ceil((1 - b.tokens) / refillPerMs / 1000);
      c.header("retry-after", String(wait));
      throw new ApiError(
        429,
        "rate_limited",
        `${who} sent more than ${perMinute} requests a minute; retry in ${wait} s`,
      );
    }
    b.tokens -= 1;
    return next();
  };
}
