import type { Store } from "./types";

/**
 * A dropped database connection (PostgreSQL restarted, a backend terminated, a network blip)
 * must pause a run, not fail it. Every store call that fails with a connection error is
 * retried with exponential backoff until `maxWaitMs` has passed; the pool opens a new
 * connection on the next try. Calls are retried whole: writes are upserts, first-write-wins
 * inserts or conditional updates, so a retry after a lost acknowledgement is harmless
 * (except a duplicated log line at worst).
 */

const CONNECTION_CODES = new Set([
  "57P01", // admin_shutdown: pg_terminate_backend, server stopping
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: server starting
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const err = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof err.code === "string" && CONNECTION_CODES.has(err.code)) return true;
    if (
      typeof err.message === "string" &&
      /Connection terminated|connection timeout|terminating connection|Client has encountered a connection error/i.test(
        err.message,
      )
    )
      return true;
    e = err.cause;
  }
  return false;
}

export type ReconnectOptions = {
  maxWaitMs?: number;
  onRetry?: (method: string, attempt: number, error: unknown) => void;
};

const NOT_RETRIED = new Set(["close", "kind"]);

export function withReconnect(store: Store, options: ReconnectOptions = {}): Store {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function" || typeof prop !== "string" || NOT_RETRIED.has(prop)) return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        const deadline = Date.now() + maxWaitMs;
        for (let attempt = 1; ; attempt++) {
          try {
            return await method.apply(target, args);
          } catch (error) {
            if (!isConnectionError(error) || Date.now() > deadline) throw error;
            options.onRetry?.(prop, attempt, error);
            await new Promise((r) => setTimeout(r, Math.min(2_000, 25 * 2 ** attempt)));
          }
        }
      };
    },
  });
}
