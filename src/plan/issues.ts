import type { core, z } from "zod";

/** One problem with an input, tied to the field at fault ("steps[2].command"). */
export type Issue = { path: string; message: string };

/** `["steps", 2, "command"]` → `steps[2].command`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

/**
 * zod's issues as `{ path, message }`, the shape every error in the plan stage uses.
 * Union failures are unfolded: zod reports one "Invalid input" with every branch's errors,
 * which neither a person nor an LLM can act on, so we report the branch that was meant.
 */
export function issuesFromZod(error: z.ZodError): Issue[] {
  return error.issues.flatMap((i) => unfold(i, []));
}

type ZodIssue = core.$ZodIssue;

function unfold(issue: ZodIssue, prefix: readonly PropertyKey[]): Issue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0)
    return [{ path: formatPath(path), message: plainMessage(issue) }];
  const branches = issue.errors;
  // Tagged unions (actions): the branch whose `kind` matched is the one that was meant.
  const kindMismatch = (b: ZodIssue[]) =>
    b.some((i) => i.code === "invalid_value" && i.path.length === 1 && i.path[0] === "kind");
  const tagged = branches.filter(kindMismatch).length > 0;
  const meant = tagged ? branches.find((b) => !kindMismatch(b)) : undefined;
  if (meant) return meant.flatMap((i) => unfold(i, path));
  if (tagged && branches.every(kindMismatch)) {
    const kinds = branches.flatMap((b) =>
      b.flatMap((i) => (i.code === "invalid_value" && i.path[0] === "kind" ? i.values.map(String) : [])),
    );
    return [{ path: formatPath([...path, "kind"]), message: `expected one of ${kinds.join(", ")}` }];
  }
  // Plain unions (string | number, ...): say which types would do.
  const expected = branches.flatMap((b) =>
    b.flatMap((i) => (i.code === "invalid_type" && i.path.length === 0 ? [i.expected] : [])),
  );
  const message = expected.length ? `expected ${[...new Set(expected)].join(" or ")}` : issue.message;
  return [{ path: formatPath(path), message }];
}

/** "steps[2].command: required; steps[3].id: …" — the first few, then how many more. */
export function summarizeIssues(issues: readonly Issue[], max = 5): string {
  const shown = issues.slice(0, max).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length > max ? `; and ${issues.length - max} more` : "";
  return shown.join("; ") + more;
}

/**
 * A plan or workflow body that cannot be accepted. `issues` names every field at fault, so
 * the API can answer 400 with them as they are.
 */
export class PlanInputError extends Error {
  readonly code = "invalid_plan";

  constructor(
    readonly issues: Issue[],
    what = "plan",
  ) {
    super(`invalid ${what}: ${summarizeIssues(issues)}`);
    this.name = "PlanInputError";
  }
}

/** zod's "Invalid input: expected string, received undefined" says, in short, "required". */
function plainMessage(issue: ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message))
    return `required (${issue.expected})`;
  return issue.message;
}
