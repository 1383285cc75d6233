import { PlanningError } from "../provider";

/**
 * The shell commands the offline planner writes for linux hosts. Words from the intent
 * reach a command only through the validators below: each admits a small alphabet with no
 * shell syntax, no quotes and no leading "-" (so nothing can become an option), and the
 * free-text search string is additionally single-quoted. Raw intent text never does.
 */

const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9@._-]{0,99}$/;
const PACKAGE = /^[a-zA-Z0-9][a-zA-Z0-9+._-]{0,99}$/;
const FS_PATH = /^\/[A-Za-z0-9._/-]{0,200}$/;
const LOG_PATH = /^\/var\/log\/[A-Za-z0-9._/-]{1,200}$/;
const SEARCH_TEXT = /^[A-Za-z0-9 _.,:;@#%+=/()[\]-]{1,200}$/;

function invalid(message: string): PlanningError {
  return new PlanningError("invalid_intent", message);
}

export function serviceName(raw: string): string {
  if (!SERVICE.test(raw)) throw invalid(`"${clip(raw)}" is not a service name (letters, digits, @ . _ -)`);
  return raw;
}

export function packageName(raw: string): string {
  if (!PACKAGE.test(raw)) throw invalid(`"${clip(raw)}" is not a package name (letters, digits, + . _ -)`);
  return raw;
}

export function filesystemPath(raw: string): string {
  if (!FS_PATH.test(raw) || raw.split("/").includes(".."))
    throw invalid(`"${clip(raw)}" is not a plain absolute path`);
  return raw.length > 1 ? raw.replace(/\/+$/, "") : raw;
}

/** Log search reads files under /var/log only: an intent cannot make it read /etc/shadow. */
export function logPath(raw: string): string {
  if (!LOG_PATH.test(raw) || raw.split("/").includes(".."))
    throw invalid(`log search reads files under /var/log only; "${clip(raw)}" is not one`);
  return raw;
}

export function searchText(raw: string): string {
  if (!SEARCH_TEXT.test(raw))
    throw invalid(
      `search text "${clip(raw)}" may hold letters, digits, spaces and _ . , : ; @ # % + = / ( ) [ ] - only`,
    );
  return raw;
}

export function percent(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 100)
    throw invalid(`${clip(raw)}% is not a percentage from 0 to 100`);
  return n;
}

export function loadThreshold(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000)
    throw invalid(`load threshold ${clip(raw)} is out of range`);
  return n;
}

export function port(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(`${clip(raw)} is not a port (1-65535)`);
  return n;
}

/** Commands, each taking only values that passed a validator above. */
export const linux = {
  /** Exit code 0 when the unit is active; prints the state. */
  serviceIsActive: (service: string) => `systemctl is-active ${service}`,
  serviceRestart: (service: string) => `sudo systemctl restart ${service}`,

  /** Prints the use of the filesystem holding `path`; with a threshold, fails above it. */
  disk: (path: string, abovePercent: number | null) =>
    abovePercent === null
      ? `df -hP ${path}`
      : `df -P ${path} | awk 'NR==2 { use = $5 + 0; print $6 ": " use "% used"; exit (use > ${abovePercent}) }'`,

  /** Memory in use = total - available, in percent; with a threshold, fails above it. */
  memory: (abovePercent: number | null) =>
    abovePercent === null
      ? "free -m"
      : `free -m | awk '/^Mem:/ { used = 100 - $7 * 100 / $2; printf "memory: %d%% used\\n", used; exit (used > ${abovePercent}) }'`,

  /** The 1, 5 and 15 minute load averages; with a threshold, fails when the 1 minute one is above it. */
  load: (above: number | null) =>
    above === null
      ? "cat /proc/loadavg"
      : `awk '{ print "load: " $1 " " $2 " " $3; exit ($1 > ${above}) }' /proc/loadavg`,

  /** The installed version, from dpkg on Debian-like hosts, else rpm; fails when not installed. */
  packageVersion: (pkg: string) => `dpkg-query -W ${pkg} 2>/dev/null || rpm -q ${pkg}`,
  kernelVersion: () => "uname -r",
  osVersion: () => "grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release",
  /** System firmware (BIOS/UEFI) version, readable without root. */
  firmwareVersion: () => "cat /sys/class/dmi/id/bios_version",

  /** Matching lines, case-insensitive, at most 200; no match is not a failure, an unreadable file is. */
  searchLog: (path: string, text: string) => `grep -inF -m 200 -e '${text}' ${path} || [ $? -eq 1 ]`,
};

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
