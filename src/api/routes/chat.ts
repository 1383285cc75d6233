import { chatHistory, chatTurn } from "../../chat/chat";
import { ChatBody, ChatHistory, ChatReply, ChatSessionParams } from "../../chat/schemas";
import type { Intentflow } from "../../service";
import { endpoint } from "../endpoint";

export const chatEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "post",
    path: "/v1/chat",
    summary:
      "One turn of a conversation that makes and refines a flow: the answer in words (composed by intentflow, never by the LLM), the current plan, route decision and flow version with where to approve it, and a run's result when asked",
    tag: "chat",
    role: "requester",
    body: ChatBody,
    responses: { 200: { description: "the assistant's turn", schema: ChatReply } },
    handle: async ({ body }, c) => c.json(await chatTurn(svc, c.get("actor"), body)),
  }),
  endpoint({
    method: "get",
    path: "/v1/chat/:sessionId",
    summary: "A conversation's history: every message, with what each answer did",
    tag: "chat",
    role: "requester",
    params: ChatSessionParams,
    responses: { 200: { description: "the session and its messages", schema: ChatHistory } },
    handle: async ({ params }, c) => c.json(await chatHistory(svc, params.sessionId)),
  }),
];
