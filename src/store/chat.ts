import { type Kysely, sql } from "kysely";
import { isUniqueViolation } from "./errors";

/**
 * Chat sessions and their messages (migration 0004): a conversation that refines one flow.
 * KyselyStore delegates to these; the SQL is the same on both dialects. The tables are
 * declared here rather than in schema.ts, so this feature's SQL stays in one file.
 */

export type ChatSessionRecord = {
  id: string;
  /** The flow the conversation refines; null until the first plan was made. */
  flowId: string | null;
  /**
   * The version of that flow the conversation last answered with: "run it" runs this one, not
   * whatever version someone else made since (null: the flow's latest, for older sessions).
   */
  version: number | null;
  /** The last run started or asked about in this session. */
  runId: string | null;
  /** The engine the operator asked for ("use the flow engine"), kept for later refinements. */
  engine: "auto" | "queue" | "flow";
  /**
   * The run params the conversation's flow was answered with (a library flow reused with the
   * service and hosts read from the message), passed when the operator says "run it".
   */
  runParams: Record<string, unknown> | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
};

export type ChatSessionPatch = Partial<
  Pick<ChatSessionRecord, "flowId" | "version" | "runId" | "engine" | "runParams" | "updatedAt">
>;

export type ChatMessageRecord = {
  sessionId: string;
  seq: number;
  role: "user" | "assistant";
  text: string;
  at: string;
  /** What the message did, as data (kind of turn, flow version, run): null for user messages. */
  detail: unknown;
};

type ChatTables = {
  chat_sessions: {
    id: string;
    flow_id: string | null;
    version: number | null;
    run_id: string | null;
    engine: string;
    run_params_json: string | null;
    created_by: string | null;
    created_at: string;
    updated_at: string;
  };
  chat_messages: {
    session_id: string;
    seq: number;
    role: string;
    text: string;
    at: string;
    detail_json: string | null;
  };
};

// The store's own Database type does not list these tables; this view of the same
// connection does.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Kysely instance over the same database.
type Db = Kysely<any>;
const chat = (db: Db) => db as unknown as Kysely<ChatTables>;

export async function createChatSession(db: Db, s: ChatSessionRecord): Promise<void> {
  await chat(db)
    .insertInto("chat_sessions")
    .values({
      id: s.id,
      flow_id: s.flowId,
      version: s.version,
      run_id: s.runId,
      engine: s.engine,
      run_params_json: s.runParams ? JSON.stringify(s.runParams) : null,
      created_by: s.createdBy,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
    })
    .execute();
}

export async function getChatSession(db: Db, id: string): Promise<ChatSessionRecord | undefined> {
  const r = await chat(db).selectFrom("chat_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  return (
    r && {
      id: r.id,
      flowId: r.flow_id,
      version: r.version === null ? null : Number(r.version),
      runId: r.run_id,
      engine: r.engine === "flow" || r.engine === "queue" ? r.engine : "auto",
      runParams: r.run_params_json ? (safeJson(r.run_params_json) as Record<string, unknown>) : null,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }
  );
}

export async function updateChatSession(db: Db, id: string, patch: ChatSessionPatch): Promise<void> {
  const set: Partial<ChatTables["chat_sessions"]> = {};
  if (patch.engine !== undefined) set.engine = patch.engine;
  if (patch.flowId !== undefined) set.flow_id = patch.flowId;
  if (patch.version !== undefined) set.version = patch.version;
  if (patch.runId !== undefined) set.run_id = patch.runId;
  if (patch.runParams !== undefined)
    set.run_params_json = patch.runParams ? JSON.stringify(patch.runParams) : null;
  if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
  if (!Object.keys(set).length) return;
  await chat(db).updateTable("chat_sessions").set(set).where("id", "=", id).execute();
}

/**
 * Appends a message with the next sequence number of its session. Two appends racing for the
 * same number (PostgreSQL reads committed data only) collide on the primary key; the loser
 * takes the next number.
 */
export async function appendChatMessage(
  db: Db,
  m: Omit<ChatMessageRecord, "seq">,
): Promise<ChatMessageRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await appendOnce(db, m);
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

async function appendOnce(db: Db, m: Omit<ChatMessageRecord, "seq">): Promise<ChatMessageRecord> {
  return chat(db)
    .transaction()
    .execute(async (trx) => {
      const last = await trx
        .selectFrom("chat_messages")
        .select(sql<number>`coalesce(max(seq), 0)`.as("n"))
        .where("session_id", "=", m.sessionId)
        .executeTakeFirst();
      const seq = Number(last?.n ?? 0) + 1;
      await trx
        .insertInto("chat_messages")
        .values({
          session_id: m.sessionId,
          seq,
          role: m.role,
          text: m.text,
          at: m.at,
          detail_json: m.detail === null || m.detail === undefined ? null : JSON.stringify(m.detail),
        })
        .execute();
      return { ...m, seq };
    });
}

/** A session's messages, oldest first. */
export async function chatMessages(db: Db, sessionId: string): Promise<ChatMessageRecord[]> {
  const rows = await chat(db)
    .selectFrom("chat_messages")
    .selectAll()
    .where("session_id", "=", sessionId)
    .orderBy("seq")
    .execute();
  return rows.map((r) => ({
    sessionId: r.session_id,
    seq: r.seq,
    role: r.role === "assistant" ? "assistant" : "user",
    text: r.text,
    at: r.at,
    detail: r.detail_json === null ? null : safeJson(r.detail_json),
  }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unreadable: text.slice(0, 200) };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the database untyped.
export async function createChatTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("chat_sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("flow_id", "text")
    .addColumn("run_id", "text")
    .addColumn("engine", "text", (c) => c.notNull().defaultTo("auto"))
    .addColumn("created_by", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("chat_messages")
    .addColumn("session_id", "text", (c) => c.notNull().references("chat_sessions.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("detail_json", "text")
    .addPrimaryKeyConstraint("chat_messages_pk", ["session_id", "seq"])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the database untyped.
export async function addChatVersionAndRunParams(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("chat_sessions").addColumn("version", "integer").execute();
  await db.schema.alterTable("chat_sessions").addColumn("run_params_json", "text").execute();
}
