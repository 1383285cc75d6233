/**
 * What the offline planner understands, as data: the "not understood" error lists it, the
 * docs (src/plan/OFFLINE.md) describe it, and the tests plan every example.
 */

export type CatalogueKind =
  "service" | "disk" | "memory" | "load" | "port" | "http" | "ping" | "dns" | "version" | "log_search";

export type CatalogueEntry = { kind: CatalogueKind; does: string; examples: readonly string[] };

export const OFFLINE_CATALOGUE: readonly CatalogueEntry[] = [
  {
    kind: "service",
    does: "check a systemd service; restart it only where it is down (or everywhere); verify afterwards",
    examples: [
      "check nginx on web1 and web2 and restart it where it is down",
      "check nginx on web1 and web2 and restart it where it is down, then verify",
      "is nginx running on group:web",
      "restart php-fpm on web1",
    ],
  },
  {
    kind: "disk",
    does: "disk usage of a filesystem (default /), failing above a threshold",
    examples: ["alert if disk above 90% on web servers", "check disk usage of /var on db1"],
  },
  {
    kind: "memory",
    does: "memory in use, failing above a threshold",
    examples: ["alert if memory above 80% on tag:prod", "check memory on web1"],
  },
  {
    kind: "load",
    does: "load average, failing when the 1-minute load is above a threshold",
    examples: ["alert if load above 4 on web[1-3]", "check load on all linux hosts"],
  },
  {
    kind: "port",
    does: "TCP connect to one or more ports",
    examples: ["check port 443 on web1", "are ports 80 and 443 open on web servers"],
  },
  {
    kind: "http",
    does: "HTTP GET of a URL on an inventory host, or of a path on each host, optionally expecting a status",
    examples: ["check https://web1/health expecting 200", "check http /healthz on group:web"],
  },
  { kind: "ping", does: "ping hosts", examples: ["ping web1 and web2", "is db1 reachable"] },
  { kind: "dns", does: "resolve host names in DNS", examples: ["check dns for web1"] },
  {
    kind: "version",
    does: "installed version of a package, the kernel, the OS or the firmware (BIOS)",
    examples: [
      "which nginx version runs on web servers",
      "kernel version on all linux hosts",
      "firmware version on db1",
    ],
  },
  {
    kind: "log_search",
    does: "search a log file under /var/log (default /var/log/syslog) for a word or quoted text",
    examples: ["search /var/log/syslog for error on web1", "search logs for 'out of memory' on db1"],
  },
];

/** How hosts may be named, for the same messages and docs. */
export const HOST_FORMS: readonly string[] = [
  "host names (web1, web1 and web2)",
  "ranges (web[1-3], web1..web3)",
  "groups (group:web, group web, web servers)",
  "tags (tag:prod, tagged prod)",
  "all hosts",
];

/** The catalogue as one paragraph, for error messages. */
export function describeCatalogue(): string {
  const kinds = OFFLINE_CATALOGUE.map((e) => `${e.does} (e.g. "${e.examples[0]}")`);
  return `${kinds.join("; ")}. Hosts as ${HOST_FORMS.join(", ")}.`;
}
