import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import pg from "pg";
import type { Config } from "../../src/config";
import { openPostgresDatabase } from "../../src/store/postgres";
import type { Database } from "../../src/store/schema";
import { openSqliteDatabase } from "../../src/store/sqlite";

/**
 * One suite, every backend: each backend makes a fresh, empty database for a test and
 * removes it afterwards. PostgreSQL is required, not optional: when it is unreachable the
 * PostgreSQL half fails (CI starts it), it is never skipped.
 */

export type TestDatabase = {
  config: Config["database"];
  /** A direct connection, for what the Store does not offer: corrupting a row, counting migrations. */
  raw(): Kysely<Database>;
  drop(): Promise<void>;
};

export type Backend = { name: "sqlite" | "postgres"; create(): Promise<TestDatabase> };

const sqlite: Backend = {
  name: "sqlite",
  async create() {
    const dir = mkdtempSync(join(tmpdir(), "intentflow-store-"));
    // A folder that does not exist yet: opening the store must create it.
    const path = join(dir, "nested", "store.db");
    return {
      config: { kind: "sqlite", path },
      raw: () => openSqliteDatabase(path),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

/** The server's maintenance database, where test databases are created and dropped. */
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const postgres: Backend = {
  name: "postgres",
  async create() {
    const name = `intentflow_test_${randomBytes(6).toString("hex")}`;
    await admin(`create database ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      config: { kind: "postgres", url: url.toString() },
      raw: () => openPostgresDatabase(url.toString()),
      drop: () => admin(`drop database if exists ${name} with (force)`),
    };
  },
};

export const BACKENDS: Backend[] = [sqlite, postgres];
