import { PlanningError } from "../provider";
import type { Condition, Step } from "../schema";
import { linux, serviceName } from "./commands";
import { idPart, type Matcher, step, type Task } from "./task";

/**
 * Services: "check nginx", "is nginx running", "nginx status"; "restart it where it is down"
 * (also "if down", "where it is not running", "if needed"); "restart nginx"; "then verify".
 *
 * - check only: one step, `systemctl is-active`, failing where the service is not active;
 * - restart where down: the check, then a restart with a per-host condition on the check;
 * - a restart that follows a check ("check nginx and restart it") also restarts only where
 *   the check failed: the least disruptive reading;
 * - a restart with no check ("restart php-fpm on web1") restarts everywhere named;
 * - "then verify": a final check after the restart, under the restart's condition, so it
 *   runs only where something was restarted.
 */

/** Words that can follow "check"/"restart" without being a service name. */
const NOT_A_SERVICE = String.raw`(?!(?:it|them|the|that|if|whether|where|when|service|services|status|down|up|running|active|all|is|are|on|and|then|also|verify|hosts?|servers?|everything|again|only|for|to|of|a|an|alert|warn|report|notify|tell|show|list|make|ensure|please)\b)`;
const NAME = `${NOT_A_SERVICE}[A-Za-z0-9][A-Za-z0-9@._-]*`;
/** "nginx", "nginx and mysql", "nginx, mysql and redis". */
const NAMES = String.raw`(${NAME}(?:\s*(?:,|\band\b|&)\s*(?:the\s+)?${NAME})*)`;
const LIST_SEPARATOR = /\s*(?:,|\band\b|&)\s*(?:the\s+)?/i;

const RESTART = new RegExp(
  String.raw`\brestart(?:s|ing)?\b(?:\s+(?:(it|them|the\s+services?)\b|(?:the\s+)?${NAMES}(?:\s+services?\b)?))?`,
  "i",
);
const STATE = String.raw`(?:down|stopped|inactive|failed|dead|not\s+running|not\s+active|not\s+up|isn't\s+running|aren't\s+running|isn't\s+active|isn't\s+up)`;
const WHERE_DOWN = new RegExp(
  String.raw`(?:\bonly\s+)?\b(?:(?:where|if|when|wherever|on\s+(?:the\s+)?hosts?\s+where)\s+(?:(?:it|they|the\s+services?|[A-Za-z0-9@._-]+)\s+)?(?:(?:is|are|was|were|'s)\s+)?${STATE}|if\s+(?:needed|necessary|required))\b`,
  "i",
);
const VERIFY =
  /\b(?:verify|re-?check|confirm|check\s+again)\b(?:\s+(?:it|them|that\s+it\s+is\s+running|afterwards?|again|the\s+restarts?))*/i;
const CHECKS = [
  new RegExp(
    String.raw`\b(?:check(?:\s+(?:that|if|whether|the\s+status\s+of))?|status\s+of|monitor|make\s+sure|ensure)\s+(?:the\s+)?(?:services?\s+)?${NAMES}(?:\s+services?\b)?(?:\s+(?:is\s+|are\s+)?(?:running|up|active|status)\b)?`,
    "i",
  ),
  new RegExp(String.raw`\b(?:is|are)\s+(?:the\s+)?${NAMES}(?:\s+services?)?\s+(?:running|up|active)\b`, "i"),
  new RegExp(String.raw`\b${NAMES}\s+(?:services?\s+)?(?:status|is\s+running|is\s+up|is\s+active)\b`, "i"),
];

type Wanted = { at: number; name: string; check: boolean; restart: boolean };

export const serviceTasks: Matcher = (text) => {
  const restarts = text.takeAll(RESTART);
  const whereDown = text.take(WHERE_DOWN) !== null;
  const verify = restarts.length > 0 && text.take(VERIFY) !== null;
  const wanted = new Map<string, Wanted>();
  const mention = (name: string, at: number) => {
    // Unit names are case-sensitive (NetworkManager); the first spelling is kept.
    const key = serviceName(name).toLowerCase();
    const w = wanted.get(key) ?? { at, name, check: false, restart: false };
    w.at = Math.min(w.at, at);
    wanted.set(key, w);
    return w;
  };
  for (const pattern of CHECKS)
    for (const m of text.takeAll(pattern))
      for (const name of names(m[1])) mention(name, m.index).check = true;
  for (const m of restarts) for (const w of restartsOf(m, wanted, mention)) w.restart = true;
  return [...wanted.values()]
    .sort((a, b) => a.at - b.at)
    .map((w) => serviceTask(w, { onlyWhereDown: w.restart && (whereDown || w.check), verify }));
};

function names(list: string | undefined): string[] {
  return (list ?? "").split(LIST_SEPARATOR).filter(Boolean);
}

/** The services a restart names; for "restart it" the one mentioned last before it, for "them" all of those. */
function restartsOf(
  m: RegExpExecArray,
  wanted: Map<string, Wanted>,
  mention: (name: string, at: number) => Wanted,
): Wanted[] {
  if (m[2]) return names(m[2]).map((name) => mention(name, m.index));
  const before = [...wanted.values()].filter((w) => w.at < m.index).sort((a, b) => b.at - a.at);
  if (before.length === 0)
    throw new PlanningError(
      "not_understood",
      'which service should be restarted? e.g. "restart nginx on web1"',
    );
  // "it" is the last thing mentioned, which may be a list ("check nginx and mysql … restart it").
  const plural = /them|services/i.test(m[1] ?? "");
  return plural ? before : before.filter((w) => w.at === before[0]?.at);
}

function serviceTask(w: Wanted, how: { onlyWhereDown: boolean; verify: boolean }): Task {
  const svc = w.name;
  const parts = [
    ...(w.check || how.onlyWhereDown ? [`check ${svc}`] : []),
    ...(w.restart ? [how.onlyWhereDown ? "restart it where it is down" : `restart ${svc}`] : []),
    ...(w.restart && how.verify ? ["then verify"] : []),
  ];
  return {
    kind: "service",
    at: w.at,
    summary: parts.join(", "),
    shell: true,
    steps(targets, ids) {
      const steps: Step[] = [];
      let check: string | undefined;
      if (w.check || how.onlyWhereDown) {
        check = ids.claim(`check_${idPart(svc)}`);
        steps.push(
          step({
            id: check,
            name: `Check ${svc}`,
            description: `exit code 0 where ${svc} is active`,
            action: { kind: "ssh", command: linux.serviceIsActive(svc) },
            targets,
          }),
        );
      }
      if (!w.restart) return steps;
      const when: Condition | null =
        how.onlyWhereDown && check
          ? { step: check, field: "exitCode", op: "ne", value: 0, perHost: true }
          : null;
      const restart = ids.claim(`restart_${idPart(svc)}`);
      steps.push(
        step({
          id: restart,
          name: when ? `Restart ${svc} where it is down` : `Restart ${svc}`,
          action: { kind: "ssh", command: linux.serviceRestart(svc) },
          targets,
          dependsOn: check ? [check] : [],
          when,
          timeoutMs: 60_000,
        }),
      );
      if (how.verify)
        steps.push(
          step({
            id: ids.claim(`verify_${idPart(svc)}`),
            name: `Verify ${svc} is active`,
            description: when ? `only where ${svc} was restarted` : null,
            action: { kind: "ssh", command: linux.serviceIsActive(svc) },
            targets,
            dependsOn: check ? [check, restart] : [restart],
            when,
          }),
        );
      return steps;
    },
  };
}
