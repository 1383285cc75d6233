/**
 * Errors callers act on, as classes: a conflict is the caller's mistake (a 409), stored data
 * that cannot be read is ours (a 500 naming the row), a failed migration stops the start.
 */

/** A write collided with an existing row: the id or (flow, version) is already taken. */
export class StoreConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreConflictError";
  }
}

/** A stored value could not be read back (corrupt JSON, wrong shape). Names where it is. */
export class StoredDataError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`stored ${table}.${column} of ${key} is unreadable: ${reason}`, options);
    this.name = "StoredDataError";
  }
}

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    options: { cause: unknown },
  ) {
    const detail = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`database migration ${migration ? `"${migration}" ` : ""}failed: ${detail}`, options);
    this.name = "MigrationError";
  }
}

/** Unique or primary-key violation, as SQLite (better-sqlite3) and PostgreSQL (pg) report it. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("code" in error)) return false;
  const code = (error as { code: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** SQLite's lock contention between processes (the other one holds the write lock, or our snapshot is stale). */
export function isSqliteBusy(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("code" in error)) return false;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}
