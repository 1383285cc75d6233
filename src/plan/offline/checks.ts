import { unknownHostError } from "../hosts";
import { PlanningError } from "../provider";
import * as valid from "./commands";
import { linux } from "./commands";
import { idPart, type Matcher, step, type Task } from "./task";
import type { IntentText } from "./text";

/**
 * Checks of a host's health: resource thresholds (disk, memory, load), TCP ports, HTTP,
 * ping and DNS. A threshold check "alerts" by failing on the hosts above the threshold; its
 * output says by how much.
 */

const RESOURCE = String.raw`(disk(?:\s+(?:space|usage|use))?|filesystems?|storage|memory(?:\s+usage)?|mem|ram|(?:cpu\s+)?load(?:\s+average)?)`;
const THRESHOLD = new RegExp(
  String.raw`\b${RESOURCE}\b(?:\s+(?:of|on|for|at|in)?\s*(\/[A-Za-z0-9._/-]*))?(?:\s+(?:is|are|usage|use|used))*(?:\s*(?:above|over|exceeds?|exceeding|greater\s+than|more\s+than|higher\s+than|>=?)\s*(\d+(?:\.\d+)?)\s*(%|percent\b)?)?`,
  "i",
);

export const thresholdTasks: Matcher = (text) =>
  text.takeAll(THRESHOLD).map((m) => {
    const [, resource = "", path, value, unit] = m;
    const r = resource.toLowerCase();
    if (r.startsWith("disk") || r.startsWith("filesystem") || r === "storage")
      return diskTask(
        valid.filesystemPath(path ?? "/"),
        value === undefined ? null : valid.percent(value),
        m.index,
      );
    if (r.includes("load")) {
      if (unit)
        throw new PlanningError("invalid_intent", 'load is not a percentage: say e.g. "load above 4"');
      return loadTask(value === undefined ? null : valid.loadThreshold(value), m.index);
    }
    return memoryTask(value === undefined ? null : valid.percent(value), m.index);
  });

function diskTask(path: string, above: number | null, at: number): Task {
  return {
    kind: "disk",
    at,
    summary: above === null ? `disk usage of ${path}` : `alert if disk ${path} is above ${above}%`,
    shell: true,
    steps: (targets, ids) => [
      step({
        id: ids.claim(path === "/" ? "check_disk" : `check_disk_${idPart(path)}`),
        name: above === null ? `Disk usage of ${path}` : `Disk ${path} above ${above}%?`,
        description: above === null ? null : `fails on hosts where more than ${above}% of ${path} is used`,
        action: { kind: "ssh", command: linux.disk(path, above) },
        targets,
      }),
    ],
  };
}

function memoryTask(above: number | null, at: number): Task {
  return {
    kind: "memory",
    at,
    summary: above === null ? "memory usage" : `alert if memory is above ${above}%`,
    shell: true,
    steps: (targets, ids) => [
      step({
        id: ids.claim("check_memory"),
        name: above === null ? "Memory usage" : `Memory above ${above}%?`,
        description: above === null ? null : `fails on hosts using more than ${above}% of their memory`,
        action: { kind: "ssh", command: linux.memory(above) },
        targets,
      }),
    ],
  };
}

function loadTask(above: number | null, at: number): Task {
  return {
    kind: "load",
    at,
    summary: above === null ? "load average" : `alert if load is above ${above}`,
    shell: true,
    steps: (targets, ids) => [
      step({
        id: ids.claim("check_load"),
        name: above === null ? "Load average" : `Load above ${above}?`,
        description: above === null ? null : `fails on hosts whose 1-minute load is above ${above}`,
        action: { kind: "ssh", command: linux.load(above) },
        targets,
      }),
    ],
  };
}

const PORTS = /\b(?:tcp\s+)?ports?\s+(\d{1,6}(?:\s*(?:,|and|&|or)\s*\d{1,6})*)|\btcp\s+(\d{1,6})\b/i;

export const portTasks: Matcher = (text) =>
  text.takeAll(PORTS).flatMap((m) =>
    [...(m[1] ?? m[2] ?? "").matchAll(/\d+/g)].map((d) => {
      const port = valid.port(d[0]);
      return {
        kind: "port",
        at: m.index,
        summary: `check port ${port}`,
        shell: false,
        steps: (targets, ids) => [
          step({
            id: ids.claim(`check_port_${port}`),
            name: `TCP port ${port}`,
            action: { kind: "net", check: "tcp", port },
            targets,
          }),
        ],
      } satisfies Task;
    }),
  );

export const pingTasks: Matcher = (text) =>
  netTask(text, /\b(?:ping|pingable|reachable|reachability)\b/i, { kind: "ping", id: "ping", name: "Ping" });

export const dnsTasks: Matcher = (text) =>
  netTask(text, /\b(?:dns|resolves?|resolvable|resolution|nslookup|dig)\b/i, {
    kind: "dns",
    id: "check_dns",
    name: "DNS lookup",
  });

/** One ping or DNS check of the intent's hosts, however often the intent says so. */
function netTask(
  text: IntentText,
  pattern: RegExp,
  what: { kind: "ping" | "dns"; id: string; name: string },
): Task[] {
  const found = text.takeAll(pattern);
  if (found.length === 0) return [];
  return [
    {
      kind: what.kind,
      at: found[0]?.index ?? 0,
      summary: what.name.toLowerCase(),
      shell: false,
      steps: (targets, ids) => [
        step({
          id: ids.claim(what.id),
          name: what.name,
          action: { kind: "net", check: what.kind, port: null },
          targets,
        }),
      ],
    },
  ];
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]+/i;
const HTTP_WORD =
  /\b(https?)\b(?!:\/\/)(?:\s+(?:health\s*)?(?:check|endpoint|status)\b)?(?:\s+(?:of|for|at))?(?:\s+(\/[A-Za-z0-9/._~%-]*))?/i;
const EXPECT =
  /\b(?:expect(?:ing|s)?|returns?|returning|answers?|answering|with)\s+(?:(?:an?\s+)?(?:http\s+)?(?:status|code)\s+(?:code\s+)?)?(\d{3})\b/i;
/** What a URL's path and query may hold: no braces (placeholders), spaces or quotes. */
const URL_REST = /^[A-Za-z0-9/._~%!$&()*+,;=:@?-]*$/;

/**
 * "check https://web1/health": the URL's host must be an inventory host, and the URL is
 * written with `{{host}}` so the check is bound to that target. "check http /healthz on
 * group:web": the path on each named host.
 */
export const httpTasks: Matcher = (text, inventory) => {
  const urls = text.takeAll(URL_IN_TEXT);
  const word = text.take(HTTP_WORD);
  if (urls.length === 0 && !word) return [];
  const expect = text.take(EXPECT);
  const status = expect ? Number(expect[1]) : null;
  if (status !== null && (status < 100 || status > 599))
    throw new PlanningError("invalid_intent", `${status} is not an HTTP status`);
  const how = { method: text.take(/\bHEAD\b|\bhead\s+request\b/) ? "HEAD" : "GET", status } as const;
  const tasks = urls.map((m) => {
    const url = parseUrl(m[0].replace(/[.,;:!?)]+$/, ""));
    const host = inventory.hosts.find((h) => h.name.toLowerCase() === url.hostname);
    if (!host) throw unknownHostError([url.hostname], inventory);
    const port = url.port ? `:${url.port}` : "";
    return httpTask(`${url.protocol}//{{host}}${port}${url.pathname}${url.search}`, how, m.index, [
      host.name,
    ]);
  });
  if (word) {
    const path = word[2] ?? "/";
    if (!URL_REST.test(path)) throw new PlanningError("invalid_intent", `"${path}" is not a plain URL path`);
    tasks.push(httpTask(`${word[1]?.toLowerCase()}://{{host}}${path}`, how, word.index));
  }
  return tasks;
};

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PlanningError("invalid_intent", `"${raw.slice(0, 80)}" is not a valid URL`);
  }
  if (url.username || url.password)
    throw new PlanningError(
      "invalid_intent",
      "URLs with a user name or password are not accepted: secrets never enter plans",
    );
  if (!URL_REST.test(url.pathname + url.search))
    throw new PlanningError(
      "invalid_intent",
      `"${raw.slice(0, 80)}": the path may not hold braces or quotes`,
    );
  return url;
}

type HttpHow = { method: "GET" | "HEAD"; status: number | null };

function httpTask(url: string, how: HttpHow, at: number, targets?: string[]): Task {
  const shown = url.replace("{{host}}", targets?.[0] ?? "<host>");
  const expecting = how.status === null ? "" : ` expecting ${how.status}`;
  return {
    kind: "http",
    at,
    summary: `HTTP check of ${shown}${expecting}`,
    shell: false,
    targets,
    steps: (hosts, ids) => [
      step({
        id: ids.claim("check_http"),
        name: `HTTP ${how.method} ${shown}${expecting}`.slice(0, 200),
        action: { kind: "http", method: how.method, url, body: null, expectStatus: how.status },
        targets: hosts,
      }),
    ],
  };
}
