import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema";

export type PostgresOptions = {
  /** Errors of idle pooled connections (server restart, network drop); the pool replaces them. */
  onPoolError?: (error: Error) => void;
};

/** Connects lazily: the first query opens the first connection. */
export function openPostgresDatabase(url: string, options: PostgresOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url });
  // An idle client's error is emitted on the pool; unhandled, that event would end the process.
  pool.on("error", options.onPoolError ?? (() => undefined));
  // A checked-out client's connection dying (pg_terminate_backend, a restart) is emitted on the
  // client itself; its query fails and the store retries (reconnect.ts), so the event needs a home.
  pool.on("connect", (client) => client.on("error", options.onPoolError ?? (() => undefined)));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
