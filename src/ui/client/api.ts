/// <reference lib="dom" />
import type { Me, Plan, RunDetail, RunView, VersionView } from "./types";

const KEY = "intentflow.apiKey";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { authorization: `Bearer ${key}` } : {};
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = authHeaders();
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; details?: unknown };
  };
  if (!res.ok) {
    const e = data.error ?? { code: "http_error", message: `HTTP ${res.status}` };
    throw new HttpError(res.status, e.code, e.message, e.details);
  }
  return data as T;
}

const enc = encodeURIComponent;
const flowPath = (id: string, v: number) => `/v1/flows/${enc(id)}/versions/${v}`;

export const api = {
  me: () => call<Me>("GET", "/v1/me"),
  pending: () => call<{ versions: VersionView[] }>("GET", "/v1/versions?status=pending&limit=100"),
  versions: (id: string) => call<{ versions: VersionView[] }>("GET", `/v1/flows/${enc(id)}/versions`),
  version: (id: string, v: number) => call<{ version: VersionView }>("GET", flowPath(id, v)),
  diff: (id: string, v: number) =>
    call<{ kind: string; against: number | null; diff: string }>("GET", `${flowPath(id, v)}/diff`),
  plan: (planId: string) => call<{ plan: { plan: Plan } }>("GET", `/v1/plans/${enc(planId)}`),
  approve: (id: string, v: number, comment: string) =>
    call<{ version: VersionView }>("POST", `${flowPath(id, v)}/approve`, comment ? { comment } : {}),
  reject: (id: string, v: number, reason: string) =>
    call<{ version: VersionView }>("POST", `${flowPath(id, v)}/reject`, { reason }),
  edit: (id: string, source: string) =>
    call<{ version: VersionView }>("POST", `/v1/flows/${enc(id)}/versions`, { source }),
  intent: (text: string) => call<{ flow: { id: string; version: number } }>("POST", "/v1/intents", { text }),
  startRun: (id: string, version: number) =>
    call<{ run: { id: string } }>("POST", `/v1/flows/${enc(id)}/runs`, { version }),
  runs: (flowId?: string) =>
    call<{ runs: RunView[] }>("GET", `/v1/runs?limit=100${flowId ? `&flowId=${enc(flowId)}` : ""}`),
  run: (id: string) => call<RunDetail>("GET", `/v1/runs/${enc(id)}`),
  cancel: (id: string) => call<{ run: RunView }>("POST", `/v1/runs/${enc(id)}/cancel`),
};

/** Reads the SSE stream with fetch, so the API key travels in a header (EventSource cannot send one). */
export async function streamEvents(
  runId: string,
  onEvent: (event: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(`/v1/runs/${enc(runId)}/events`, { headers: authHeaders(), signal });
  if (!res.ok || !res.body) throw new HttpError(res.status, "stream_failed", `events: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}
