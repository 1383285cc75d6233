import type { Config } from "../config";
import { KyselyStore } from "./kysely-store";
import { openPostgresDatabase, type PostgresOptions } from "./postgres";
import { openSqliteDatabase } from "./sqlite";
import type { Store } from "./types";

export { MigrationError, StoreConflictError, StoredDataError } from "./errors";
export type * from "./types";

export type OpenStoreOptions = PostgresOptions;

/** The store the configuration names. Call `migrate()` before use. */
export async function openStore(db: Config["database"], options: OpenStoreOptions = {}): Promise<Store> {
  if (db.kind === "sqlite") return new KyselyStore(openSqliteDatabase(db.path), "sqlite");
  return new KyselyStore(openPostgresDatabase(db.url, options), "postgres");
}
