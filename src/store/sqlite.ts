import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  type DialectAdapter,
  Kysely,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
} from "kysely";
import type { Database } from "./schema";

/** How long a write waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;
/** Prepared statements kept per database (the store has a few dozen distinct queries). */
const STATEMENT_CACHE = 500;

/**
 * kysely's SQLite driver prepares every statement again on every query (20–70 µs each, more
 * than running a journal insert); this keeps them, keyed by their SQL. A statement still
 * being iterated (a streamed query) is busy and cannot run twice at once: it gets a fresh one.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const fresh = db.prepare(sql);
      if (cached) return fresh;
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(sql, fresh);
      return fresh;
    },
  };
}

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
 * up. WAL lets readers run beside the writer; foreign keys are off in SQLite unless asked for.
 *
 * synchronous=NORMAL: in WAL mode a commit is written to the WAL file (the OS has it) but not
 * fsynced; the WAL is synced at checkpoints. A killed or crashed process loses no committed
 * transaction, so a journaled call is never repeated after `kill -9`. A power cut or kernel
 * crash can roll back the last transactions before the latest sync (the database stays
 * consistent): a call journaled in that window would run again on replay, at-least-once as
 * for the call in flight. FULL would fsync every commit, 0.3–0.6 ms more per journaled call
 * on this project's disk, several times the cost of the rest of the journal write.
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
  return new Kysely<Database>({
    dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(sqlite) }),
  });
}
