import * as valid from "./commands";
import { linux } from "./commands";
import { idPart, type Matcher, step, type Task } from "./task";

/** Reading facts off hosts: installed versions, and lines of a log file. */

const SYSTEM_PART = String.raw`(kernel|firmware|bios|os|operating\s+system)`;
const SYSTEM_VERSION = [
  new RegExp(String.raw`\b${SYSTEM_PART}\s+versions?\b`, "i"),
  new RegExp(String.raw`\b(?:which|what)\s+versions?\s+of\s+(?:the\s+)?${SYSTEM_PART}\b`, "i"),
  new RegExp(String.raw`\bversions?\s+of\s+(?:the\s+)?${SYSTEM_PART}\b`, "i"),
  new RegExp(String.raw`\b(?:which|what)\s+${SYSTEM_PART}\b`, "i"),
];

const NOT_A_PACKAGE = String.raw`(?!(?:which|what|the|a|an|its|their|package|same|latest|installed|running|current|new|old|version|versions)\b)`;
const PACKAGE = `${NOT_A_PACKAGE}([A-Za-z0-9][A-Za-z0-9+._-]*)`;
const PACKAGE_VERSION = [
  new RegExp(String.raw`\b(?:which|what)\s+versions?\s+of\s+(?:the\s+)?(?:package\s+)?${PACKAGE}`, "i"),
  new RegExp(String.raw`\bversions?\s+of\s+(?:the\s+)?(?:package\s+)?${PACKAGE}`, "i"),
  new RegExp(String.raw`\b(?:which|what)\s+${PACKAGE}\s+versions?\b`, "i"),
  new RegExp(String.raw`\b${PACKAGE}\s+(?:package\s+)?versions?\b`, "i"),
];

const SYSTEM_COMMANDS = {
  kernel: { id: "kernel_version", name: "Kernel version", command: linux.kernelVersion() },
  os: { id: "os_version", name: "OS version", command: linux.osVersion() },
  firmware: { id: "firmware_version", name: "Firmware (BIOS) version", command: linux.firmwareVersion() },
} as const;

export const versionTasks: Matcher = (text) => {
  const tasks: Task[] = [];
  for (const pattern of SYSTEM_VERSION)
    for (const m of text.takeAll(pattern)) {
      const part = (m[1] ?? "").toLowerCase();
      const which = part === "kernel" ? "kernel" : part === "firmware" || part === "bios" ? "firmware" : "os";
      tasks.push(readTask("version", m.index, SYSTEM_COMMANDS[which]));
    }
  for (const pattern of PACKAGE_VERSION)
    for (const m of text.takeAll(pattern)) {
      const pkg = valid.packageName(m[1] ?? "");
      tasks.push(
        readTask("version", m.index, {
          id: `${idPart(pkg)}_version`,
          name: `${pkg} version`,
          command: linux.packageVersion(pkg),
        }),
      );
    }
  return dedupe(tasks);
};

const QUOTED_OR_WORD = `(?:"([^"]{1,200})"|'([^']{1,200})'|([A-Za-z0-9_.:@#%+=-]+))`;
const LOG_FILE = String.raw`(\/[^\s,;]+)`;
const LOG_SEARCH = [
  // search /var/log/syslog for error
  new RegExp(
    String.raw`\b(?:search|grep|scan|look\s+through)\s+(?:in\s+)?${LOG_FILE}\s+for\s+${QUOTED_OR_WORD}`,
    "i",
  ),
  // search for error in /var/log/syslog
  new RegExp(String.raw`\b(?:search|grep|look)\s+(?:for\s+)?${QUOTED_OR_WORD}\s+in\s+${LOG_FILE}`, "i"),
  // search the logs for error
  new RegExp(
    String.raw`\b(?:search|grep|scan)\s+(?:the\s+)?(?:system\s+)?(?:logs?|syslog)\s+for\s+${QUOTED_OR_WORD}`,
    "i",
  ),
];
const DEFAULT_LOG = "/var/log/syslog";

export const logSearchTasks: Matcher = (text) =>
  LOG_SEARCH.flatMap((pattern, i) =>
    text.takeAll(pattern).map((m) => {
      const groups = [...m].slice(1);
      // The file comes first in the first pattern, last in the second, not at all in the third.
      const [file, found] =
        i === 0 ? [groups[0], groups.slice(1)] : i === 1 ? [groups[3], groups] : [DEFAULT_LOG, groups];
      const path = valid.logPath((file ?? DEFAULT_LOG).replace(/[.:!?)]+$/, ""));
      const needle = valid.searchText(found.slice(0, 3).find((g) => g !== undefined) ?? "");
      return readTask("log_search", m.index, {
        id: "search_logs",
        name: `Search ${path} for "${needle}"`,
        command: linux.searchLog(path, needle),
        description: "matching lines; no match is not a failure",
      });
    }),
  );

function readTask(
  kind: "version" | "log_search",
  at: number,
  what: { id: string; name: string; command: string; description?: string },
): Task {
  return {
    kind,
    at,
    summary: what.name.charAt(0).toLowerCase() + what.name.slice(1),
    shell: true,
    steps: (targets, ids) => [
      step({
        id: ids.claim(what.id),
        name: what.name.slice(0, 200),
        description: what.description ?? null,
        action: { kind: "ssh", command: what.command },
        targets,
      }),
    ],
  };
}

/** "kernel version … kernel version" asks once. */
function dedupe(tasks: Task[]): Task[] {
  const seen = new Set<string>();
  return tasks.filter((t) => !seen.has(t.summary) && seen.add(t.summary));
}
