/**
 * What a chat message asks for, decided by rules in our code, before any LLM sees it: only
 * "plan" and "refine" reach a planner. Approving is never among the outcomes, and requests to
 * disclose credentials or prompts are answered with a refusal without reaching anything.
 */

export type MessageKind =
  | { kind: "disclose" }
  | { kind: "approve" }
  | { kind: "run"; extra: boolean }
  | { kind: "run_question" }
  | { kind: "status" }
  | { kind: "engine"; engine: "flow" | "queue" }
  | { kind: "change" };

const DISCLOSE =
  /\b(?:system\s+prompt|(?:your|the)\s+(?:prompt|instructions|rules)|passwords?|passphrases?|credentials?|secrets?|private\s+keys?|ssh\s+keys?|api[\s_-]?keys?|tokens?|env(?:ironment)?\s+variables?)\b/i;
const APPROVE =
  /\b(?:approve[ds]?|approving|approval|authori[sz]e[ds]?|sign[\s-]?off|bypass|skip\s+(?:the\s+)?review|without\s+review)\b/i;
const RUN =
  /^\W*(?:(?:ok(?:ay)?|great|good|thanks|now|please|then|so|and|go\s+ahead\s+and|just|right)\W+)*(?:run|execute|start|launch|trigger)\b(?:\s+(?:it|this|that|the\s+flow|the\s+plan|now|please|again)\b)*/i;
const RUN_QUESTION =
  /\b(?:did\s+(?:it|that|the\s+run|this)\b|how\s+did\s+(?:it|the\s+run)|what\s+happened|results?\b|outcome|(?:succeed|fail|work)(?:ed)?\s*\?|is\s+it\s+(?:done|finished|still\s+running))/i;
const STATUS =
  /\b(?:status|is\s+it\s+approved|approved\s*\?|where\s+(?:do\s+i|can\s+i|to)\s+(?:review|approve))/i;
const ENGINE = /\b(?:use|on|with|switch\s+to|move\s+to)\s+the\s+(flow|queue)\s+engine\b/i;

export function understand(message: string): MessageKind {
  if (DISCLOSE.test(message)) return { kind: "disclose" };
  const run = RUN.exec(message);
  if (run) {
    // "run it" runs the approved version as it is; any other words ("on web9", "skip the
    // review") are not instructions the run can take, and are said so.
    const extra = message.slice(run.index + run[0].length).replace(/[\s.!?]+/g, "").length > 0;
    return { kind: "run", extra };
  }
  if (APPROVE.test(message)) return { kind: "approve" };
  if (RUN_QUESTION.test(message)) return { kind: "run_question" };
  const engine = ENGINE.exec(message);
  if (engine) return { kind: "engine", engine: engine[1]!.toLowerCase() as "flow" | "queue" };
  if (STATUS.test(message)) return { kind: "status" };
  return { kind: "change" };
}
