import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store";
import type { ChatSessionRecord, Store } from "../../src/store/types";
import { BACKENDS, type TestDatabase } from "../store/backends";

describe.each(BACKENDS)("chat sessions and messages on $name", (backend) => {
  let database: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    database = await backend.create();
    store = await openStore(database.config);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  const session = (): ChatSessionRecord => ({
    id: randomUUID(),
    flowId: null,
    version: null,
    runId: null,
    engine: "auto",
    runParams: null,
    createdBy: "ann",
    createdAt: "2026-11-23T10:00:00.000Z",
    updatedAt: "2026-11-23T10:00:00.000Z",
  });

  it("stores a session, updates it, and keeps its messages in order with their details", async () => {
    const s = session();
    await store.createChatSession(s);
    expect(await store.getChatSession(s.id)).toEqual(s);
    const flowId = randomUUID();
    await store.updateChatSession(s.id, { flowId, engine: "flow", updatedAt: "2026-11-23T10:01:00.000Z" });
    expect(await store.getChatSession(s.id)).toMatchObject({ flowId, engine: "flow", runId: null });
    const runParams = { service: "redis", hosts: ["web1"] };
    await store.updateChatSession(s.id, { runParams, version: 3 });
    expect(await store.getChatSession(s.id)).toMatchObject({ flowId, runParams, version: 3 });
    await store.updateChatSession(s.id, { runParams: null });
    expect(await store.getChatSession(s.id)).toMatchObject({ flowId, runParams: null });

    const at = "2026-11-23T10:00:01.000Z";
    const [a, b] = await Promise.all([
      store.appendChatMessage({ sessionId: s.id, role: "user", text: "also check disk", at, detail: null }),
      store.appendChatMessage({
        sessionId: s.id,
        role: "assistant",
        text: "done",
        at,
        detail: { kind: "refined" },
      }),
    ]);
    expect([a!.seq, b!.seq].sort()).toEqual([1, 2]);
    const messages = await store.chatMessages(s.id);
    expect(messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(messages.find((m) => m.role === "assistant")!.detail).toEqual({ kind: "refined" });
    expect(messages.find((m) => m.role === "user")!.detail).toBeNull();
    expect(await store.chatMessages(randomUUID())).toEqual([]);
    expect(await store.getChatSession(randomUUID())).toBeUndefined();
  });
});
