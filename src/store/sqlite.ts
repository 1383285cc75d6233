import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { type DialectAdapter, Kysely, SqliteAdapter, SqliteDialect } from "kysely";
import type { Database } from "./schema";

/** How long a write waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * kysely assumes SQLite cannot roll back schema changes and runs migrations outside a
 * transaction; SQLite can. Inside one, a migration that fails halfway leaves nothing, and a
 * second process migrating at the same time fails cleanly (SQLITE_BUSY) instead of finding
 * half-made tables; migrateToLatest then retries.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * Opens the SQLite file, creating its folder: the default store must work with nothing set
 * up. WAL lets readers run beside the writer; synchronous=NORMAL is durable in WAL mode
 * short of a power cut; foreign keys are off in SQLite unless asked for.
 */
export function openSqliteDatabase(path: string): Kysely<Database> {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(inMemory ? ":memory:" : path);
  try {
    if (!inMemory) sqlite.pragma("journal_mode = WAL");
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new TransactionalDdlSqliteDialect({ database: sqlite }) });
}
