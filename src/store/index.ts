import type { Config } from "../config";
import { KyselyStore } from "./kysely-store";
import { openPostgresDatabase, type PostgresOptions } from "./postgres";
import { type ReconnectOptions, withReconnect } from "./reconnect";
import { openSqliteDatabase } from "./sqlite";
import type { Store } from "./types";

export { MigrationError, StoreConflictError, StoredDataError } from "./errors";
export type * from "./types";

export type OpenStoreOptions = PostgresOptions & { reconnect?: ReconnectOptions };

/** The store the configuration names. Call `migrate()` before use. */
export async function openStore(db: Config["database"], options: OpenStoreOptions = {}): Promise<Store> {
  if (db.kind === "sqlite") return new KyselyStore(openSqliteDatabase(db.path), "sqlite");
  // A PostgreSQL connection can drop under a running service: such calls wait and retry.
  return withReconnect(new KyselyStore(openPostgresDatabase(db.url, options), "postgres"), options.reconnect);
}
