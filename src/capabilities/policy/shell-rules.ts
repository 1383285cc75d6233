/**
 * The built-in rule set for shell commands: which programs only read, which sub-commands of
 * multi-purpose tools only read, which arguments turn a reader into a writer, and what is
 * denied outright. Documented in README.md ("Command policy"); extended by a policy file.
 */

/** Programs that only read, whatever their arguments (unless WRITING_ARGS says otherwise). */
export const READ_ONLY_PROGRAMS = [
  "cat",
  "head",
  "tail",
  "grep",
  "egrep",
  "fgrep",
  "zgrep",
  "zcat",
  "less",
  "more",
  "wc",
  "ls",
  "stat",
  "file",
  "df",
  "du",
  "free",
  "uptime",
  "uname",
  "hostname",
  "hostnamectl",
  "whoami",
  "id",
  "groups",
  "who",
  "w",
  "last",
  "date",
  "ps",
  "pgrep",
  "pidof",
  "top",
  "htop",
  "ss",
  "netstat",
  "ip",
  "ping",
  "ping6",
  "traceroute",
  "tracepath",
  "mtr",
  "dig",
  "nslookup",
  "host",
  "getent",
  "lsblk",
  "blkid",
  "lscpu",
  "lsmem",
  "lspci",
  "lsusb",
  "lsof",
  "dmesg",
  "journalctl",
  "echo",
  "printf",
  "test",
  "true",
  "false",
  "which",
  "type",
  "env",
  "printenv",
  "nproc",
  "vmstat",
  "iostat",
  "mpstat",
  "sar",
  "mount",
  "findmnt",
  "cut",
  "sort",
  "uniq",
  "awk",
  "sed",
  "tr",
  "column",
  "jq",
  "md5sum",
  "sha1sum",
  "sha256sum",
  "openssl",
  "curl",
  "wget",
  "dpkg-query",
  "nginx",
  "apache2ctl",
  "sleep",
  "exit",
  "[",
  "systemd-analyze",
  "lsb_release",
  "rpm",
  "man",
  "seq",
  "basename",
  "dirname",
  "readlink",
  "realpath",
  "diff",
  "cmp",
  "find",
  "locate",
  "timedatectl",
  "sysctl",
  "ulimit",
  "getenforce",
  "sestatus",
  "nc",
  "ncat",
  "xxd",
  "od",
  "strings",
  "base64",
  "tac",
  "nl",
  "fold",
  "expr",
  "bc",
  "tee",
];

/** Sub-commands of service managers and package tools that only read. */
export const READ_ONLY_SUBCOMMANDS: Record<string, string[]> = {
  systemctl: [
    "is-active",
    "is-enabled",
    "is-failed",
    "status",
    "show",
    "list-units",
    "list-unit-files",
    "list-timers",
    "cat",
    "list-dependencies",
  ],
  service: ["status", "--status-all"],
  docker: ["ps", "inspect", "logs", "images", "version", "info", "stats", "top", "port", "diff"],
  podman: ["ps", "inspect", "logs", "images", "version", "info", "stats"],
  kubectl: ["get", "describe", "logs", "version", "top", "explain", "api-resources"],
  apt: ["list", "show", "policy", "search"],
  "apt-cache": ["policy", "show", "search", "depends", "rdepends"],
  dpkg: ["-l", "-s", "-L", "--list", "--status", "--listfiles"],
  git: ["status", "log", "diff", "show", "rev-parse", "branch", "remote"],
  yum: ["list", "info", "search"],
  dnf: ["list", "info", "search"],
  ufw: ["status"],
  iptables: ["-L", "-S", "--list", "--list-rules"],
  nft: ["list"],
  crontab: ["-l"],
};

/** Arguments that turn a reading program into a writing one. */
export const WRITING_ARGS: Record<string, RegExp> = {
  curl: /^(-o|--output|-O|--remote-name|-T|--upload-file|-X|--request|-d|--data.*|-F|--form)$/,
  wget: /^.*$/, // wget writes a file by default
  ip: /^(add|del|delete|flush|set|change|replace|up|down)$/,
  mount: /^-/,
  openssl: /^(-out|genrsa|genpkey|req)$/,
  rpm: /^(-i|-U|-e|-F|--install|--upgrade|--erase|--freshen|--import)$/,
  date: /^(-s|--set)$/,
  hostname: /^[^-]/,
  hostnamectl: /^set-/,
  timedatectl: /^set-/,
  sysctl: /^(-w|--write|-p|--load|[^-].*=.*)$/,
  sort: /^(-o|--output)$/,
  nginx: /^-s$/,
  sed: /^(-i.*|--in-place.*)$/,
  find: /^(-delete|-exec|-execdir|-ok|-okdir|-fprint.*|-fls)$/,
  tee: /^[^-]/, // tee FILE writes the file; `tee` alone (or `tee /dev/null`) is handled below
  nc: /^(-l|--listen|-e|-c)$/,
  ncat: /^(-l|--listen|-e|-c|--exec|--sh-exec)$/,
  awk: /system\(|>|\|/,
};

/** Interpreters: text piped into one is run as a program. */
export const INTERPRETERS = [
  "sh",
  "bash",
  "zsh",
  "dash",
  "ksh",
  "fish",
  "python",
  "python2",
  "python3",
  "perl",
  "ruby",
  "node",
  "php",
  "lua",
  "pwsh",
  "powershell",
];

/** Programs that run their arguments as another command. */
export const WRAPPERS = [
  "sudo",
  "doas",
  "nohup",
  "nice",
  "ionice",
  "timeout",
  "env",
  "command",
  "exec",
  "xargs",
  "stdbuf",
  "time",
  "chroot",
  "setsid",
  "unbuffer",
  "watch",
  "flock",
  "su",
  "runuser",
];

const SYSTEM_DIR = "(bin|boot|dev|etc|lib|lib32|lib64|libx32|opt|proc|root|run|sbin|srv|sys|usr|var|home)";
const ROOTISH = new RegExp(`^(/+|/\\*|/\\.\\*?|~|~/|~/\\*|\\$HOME/?\\*?|/${SYSTEM_DIR}/*\\*?)$`);

export function isRootish(path: string): boolean {
  return ROOTISH.test(path);
}

const recursive = (a: string[]) => a.some((x) => /^-[a-zA-Z]*[rR]/.test(x) || x === "--recursive");

export type DenyRule = { id: string; test: (prog: string, args: string[]) => boolean; reason: string };

export const DENY_RULES: DenyRule[] = [
  {
    id: "rm-root",
    test: (p, a) => p === "rm" && recursive(a) && a.some(isRootish),
    reason: "recursive delete of a root, home or system path",
  },
  {
    id: "find-delete-root",
    test: (p, a) =>
      p === "find" &&
      isRootish(a[0] ?? "") &&
      a.some((x) => x === "-delete" || (x === "-exec" && a.includes("rm"))),
    reason: "deletes across a root or system path",
  },
  {
    id: "mkfs",
    test: (p) =>
      /^mkfs(\..*)?$/.test(p) ||
      ["mke2fs", "mkswap", "wipefs", "sgdisk", "fdisk", "sfdisk", "parted", "blkdiscard", "shred"].includes(
        p,
      ),
    reason: "formats, partitions or wipes a disk",
  },
  {
    id: "dd-device",
    test: (p, a) => p === "dd" && a.some((x) => /^of=\/dev\/(?!null$)/.test(x)),
    reason: "writes raw data to a device",
  },
  {
    id: "power",
    test: (p) => ["shutdown", "poweroff", "halt", "reboot", "init", "telinit"].includes(p),
    reason: "stops or restarts the machine",
  },
  {
    id: "power",
    test: (p, a) =>
      p === "systemctl" &&
      ["poweroff", "halt", "reboot", "kexec", "emergency", "rescue", "isolate"].includes(a[0] ?? ""),
    reason: "stops or restarts the machine",
  },
  {
    id: "chmod-root",
    test: (p, a) => (p === "chmod" || p === "chown" || p === "chgrp") && recursive(a) && a.some(isRootish),
    reason: "recursive permission or ownership change on a system path",
  },
  {
    id: "firewall-flush",
    test: (p, a) =>
      ["iptables", "ip6tables", "iptables-legacy", "iptables-nft"].includes(p) &&
      a.some((x) => /^(-F|--flush|-X|--delete-chain)$/.test(x) || x === "-P" || x === "--policy"),
    reason: "flushes the firewall or changes its default policy",
  },
  { id: "firewall-flush", test: (p, a) => p === "nft" && a[0] === "flush", reason: "flushes the firewall" },
  {
    id: "firewall-flush",
    test: (p, a) => p === "ufw" && ["reset", "disable"].includes(a[0] ?? ""),
    reason: "resets or disables the firewall",
  },
  {
    id: "network-down",
    test: (p, a) => p === "ip" && a.includes("flush"),
    reason: "flushes network configuration",
  },
  {
    id: "network-down",
    test: (p, a) => p === "ip" && a.includes("link") && a.includes("set") && a.includes("down"),
    reason: "takes a network interface down",
  },
  {
    id: "network-down",
    test: (p, a) => p === "ifdown" || (p === "ifconfig" && a.includes("down")),
    reason: "takes a network interface down",
  },
  {
    id: "network-down",
    test: (p, a) => p === "nmcli" && a.includes("networking") && a.includes("off"),
    reason: "turns networking off",
  },
  {
    id: "kill-all",
    test: (p, a) => (p === "kill" && a.includes("-1")) || p === "killall5",
    reason: "kills every process",
  },
  {
    id: "passwd-root",
    test: (p, a) => (p === "passwd" || p === "userdel") && a.includes("root"),
    reason: "changes or removes the root account",
  },
  { id: "crontab-remove", test: (p, a) => p === "crontab" && a.includes("-r"), reason: "deletes a crontab" },
];
