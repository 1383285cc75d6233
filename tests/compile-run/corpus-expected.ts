/**
 * What each corpus plan must do when its bundle runs against the simulated hosts: the run's
 * status (and error, at its TypeScript line), each step's status/attempts per host, the commands
 * each host saw, and what reached HTTP, TCP, PowerShell, notifications, logs and sleeps.
 */
export const EXPECTED: Record<string, Record<string, unknown>> = {
  "compensate-rollback": {
    status: "failed",
    error: 'step "deploy" failed (web1: exit code 1) (at: requireSuccess("deploy", deployResults);)',
    steps: {
      deploy: {
        web1: "failed/1",
      },
      rollback: {
        web1: "succeeded/1",
      },
      tell: {
        "-": "succeeded/1",
      },
    },
    commands: {
      web1: ["sudo systemctl restart app", "sudo systemctl start app-previous"],
    },
    logs: ["deploy failed and was rolled back"],
  },
  "deploy-with-params-retry": {
    status: "failed",
    error:
      'step "current_version" failed on 2 of 2 hosts (web1: exit code 1; web2: exit code 1) (at: requireSuccess("current_version", currentVersionResults);)',
    steps: {
      current_version: {
        web1: "failed/1",
        web2: "failed/1",
      },
      download: {
        web1: "failed/3",
        web2: "failed/3",
      },
    },
    commands: {
      web1: [
        "cat /opt/app/VERSION",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
      ],
      web2: [
        "cat /opt/app/VERSION",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
        "curl -fsSL -o /tmp/app.tgz https://releases.example.com/app-'1.4.2'.tgz",
      ],
    },
    sleeps: [500, 500, 1000, 1000],
  },
  "diamond-dependencies": {
    status: "succeeded",
    steps: {
      name: {
        db1: "succeeded/1",
      },
      up: {
        db1: "succeeded/1",
      },
      kernel: {
        db1: "succeeded/1",
      },
      disk: {
        db1: "succeeded/1",
      },
    },
    commands: {
      db1: ["hostname", "uptime", "uname -r", "df -h /"],
    },
  },
  "disk-report-linear": {
    status: "succeeded",
    steps: {
      disk_usage: {
        db1: "succeeded/1",
        db2: "succeeded/1",
      },
      uptime: {
        db1: "succeeded/1",
        db2: "succeeded/1",
      },
      report: {
        "-": "succeeded/1",
      },
    },
    commands: {
      db1: ["df -h /", "uptime"],
      db2: ["df -h /", "uptime"],
    },
    logs: ["disk and uptime collected"],
  },
  "fan-out-concurrency-one": {
    status: "succeeded",
    steps: {
      restart_cron: {
        web1: "succeeded/1",
        web2: "succeeded/1",
        db1: "succeeded/1",
      },
    },
    commands: {
      web1: ["sudo systemctl restart cron"],
      web2: ["sudo systemctl restart cron"],
      db1: ["sudo systemctl restart cron"],
    },
  },
  "fan-out-wide": {
    status: "succeeded",
    steps: {
      uptime: {
        web1: "succeeded/1",
        web2: "succeeded/1",
        db1: "succeeded/1",
      },
    },
    commands: {
      web1: ["uptime"],
      web2: ["uptime"],
      db1: ["uptime"],
    },
  },
  "hostile-text": {
    status: "succeeded",
    steps: {
      echo: {
        web1: "succeeded/1",
      },
      literal: {
        web1: "succeeded/1",
      },
    },
    commands: {
      web1: ["echo '$(rm -rf /); `id` ${x} '\\''q'\\'''", "echo '${HOME}' \"a\\\\b\""],
    },
  },
  "http-health": {
    status: "succeeded",
    steps: {
      health: {
        web1: "succeeded/1",
        web2: "failed/1",
      },
      restart: {
        web1: "skipped/0",
        web2: "succeeded/1",
      },
    },
    commands: {
      web2: ["sudo systemctl restart nginx"],
    },
    logs: ['skipped: health.status eq "failed" does not hold on this host'],
    http: ["web1 GET /health", "web2 GET /health"],
  },
  "http-post-poll": {
    status: "succeeded",
    steps: {
      trigger: {
        web1: "succeeded/1",
      },
      wait: {
        web1: "succeeded/1",
      },
    },
    commands: {},
    http: [
      'web1 POST /deploy?version=1.2.3 {"version":"1.2.3"}',
      "web1 GET /deploy/status",
      "web1 GET /deploy/status",
      "web1 GET /deploy/status",
    ],
    sleeps: [500, 500],
  },
  "independent-then-join": {
    status: "succeeded",
    steps: {
      web_nginx: {
        web1: "succeeded/1",
      },
      db_postgres: {
        db1: "succeeded/1",
      },
      done: {
        "-": "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nginx"],
      db1: ["systemctl is-active postgresql"],
    },
    logs: ["web and database checked"],
  },
  "net-dns-ping": {
    status: "succeeded",
    steps: {
      resolve: {
        db1: "succeeded/1",
      },
      ping: {
        db1: "succeeded/1",
      },
      say: {
        "-": "succeeded/1",
      },
    },
    commands: {},
    logs: ["db1 is at 127.0.0.1"],
  },
  "net-tcp-ports": {
    status: "succeeded",
    steps: {
      ssh_port: {
        web1: "succeeded/1",
        web2: "succeeded/1",
        db1: "succeeded/1",
      },
      discard_port: {
        web1: "failed/1",
      },
    },
    commands: {},
    tcp: ["web1:22", "web2:22", "db1:22", "web1:9"],
  },
  "nginx-check-restart": {
    status: "succeeded",
    steps: {
      check_nginx: {
        web1: "succeeded/1",
        web2: "failed/1",
      },
      restart_nginx: {
        web1: "skipped/0",
        web2: "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nginx"],
      web2: ["systemctl is-active nginx", "sudo systemctl restart nginx"],
    },
    logs: ["skipped: check_nginx.exitCode ne 0 does not hold on this host"],
  },
  "notify-on-failure": {
    status: "succeeded",
    steps: {
      check: {
        web1: "succeeded/1",
        web2: "failed/1",
      },
      tell: {
        "-": "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nginx"],
      web2: ["systemctl is-active nginx"],
    },
    notifications: ["ops: nginx checked on the web servers"],
  },
  "on-error-continue": {
    status: "succeeded",
    steps: {
      missing: {
        web1: "failed/1",
      },
      next: {
        web1: "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nosuchservice", "uptime"],
    },
  },
  "on-error-fail": {
    status: "failed",
    error: 'step "check" failed (web2: exit code 3) (at: requireSuccess("check", checkResults);)',
    steps: {
      check: {
        web2: "failed/1",
      },
    },
    commands: {
      web2: ["systemctl is-active nginx"],
    },
  },
  "params-defaults": {
    status: "succeeded",
    steps: {
      state: {
        web1: "succeeded/1",
      },
      log_tail: {
        web1: "succeeded/1",
      },
      say: {
        "-": "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active 'nginx'", "tail -n '3' /var/log/syslog"],
    },
    logs: ["checked nginx, verbose=false"],
  },
  "params-hosts": {
    status: "succeeded",
    steps: {
      uptime: {
        web1: "succeeded/1",
        db1: "succeeded/1",
      },
      list: {
        db1: "succeeded/1",
      },
    },
    commands: {
      web1: ["uptime"],
      db1: ["uptime", "echo 'web1' 'db1'"],
    },
  },
  "pass-exit-code": {
    status: "succeeded",
    steps: {
      check: {
        web2: "failed/1",
      },
      note: {
        web2: "succeeded/1",
      },
    },
    commands: {
      web2: ["systemctl is-active nginx", "echo exit='3'"],
    },
  },
  "pass-per-host": {
    status: "succeeded",
    steps: {
      name: {
        web1: "succeeded/1",
        web2: "succeeded/1",
      },
      echo: {
        web1: "succeeded/1",
        web2: "succeeded/1",
      },
    },
    commands: {
      web1: ["hostname", "echo I am 'web1' on 'web1'"],
      web2: ["hostname", "echo I am 'web2' on 'web2'"],
    },
  },
  "pass-stdout": {
    status: "succeeded",
    steps: {
      kernel: {
        db1: "succeeded/1",
      },
      find: {
        db1: "succeeded/1",
      },
    },
    commands: {
      db1: ["uname -r", "echo looking for '6.1.0-26-amd64'"],
    },
  },
  "poll-gives-up": {
    status: "succeeded",
    steps: {
      wait: {
        web2: "timed_out/1",
      },
    },
    commands: {
      web2: [
        "systemctl is-active nginx",
        "systemctl is-active nginx",
        "systemctl is-active nginx",
        "systemctl is-active nginx",
      ],
    },
    sleeps: [1000, 1000, 1000],
  },
  "poll-until-active": {
    status: "succeeded",
    steps: {
      start: {
        web2: "succeeded/1",
      },
      wait: {
        web2: "succeeded/1",
      },
    },
    commands: {
      web2: ["sudo systemctl start nginx", "systemctl is-active nginx"],
    },
  },
  "powershell-services": {
    status: "succeeded",
    steps: {
      status: {
        win1: "succeeded/1",
      },
      restart: {
        win1: "succeeded/1",
      },
    },
    commands: {},
    powershell: ["win1: (Get-Service -Name 'Spooler').Status", "win1: Restart-Service -Name 'Spooler'"],
  },
  "retry-backoff": {
    status: "succeeded",
    steps: {
      check: {
        web2: "failed/3",
      },
    },
    commands: {
      web2: ["systemctl is-active nginx", "systemctl is-active nginx", "systemctl is-active nginx"],
    },
    sleeps: [200, 400],
  },
  "sleep-and-log": {
    status: "succeeded",
    steps: {
      pause: {
        "-": "succeeded/1",
      },
      say: {
        "-": "succeeded/1",
      },
    },
    commands: {},
    logs: ["done waiting"],
    sleeps: [250],
  },
  "step-timeout": {
    status: "succeeded",
    steps: {
      slow: {
        web1: "timed_out/1",
      },
      after: {
        "-": "succeeded/1",
      },
    },
    commands: {
      web1: ["sleep 5"],
    },
    logs: ["went on after the timeout"],
  },
  "uptime-one-host": {
    status: "succeeded",
    steps: {
      uptime: {
        web1: "succeeded/1",
      },
    },
    commands: {
      web1: ["uptime"],
    },
  },
  "when-any-host": {
    status: "succeeded",
    steps: {
      check: {
        web1: "succeeded/1",
        web2: "failed/1",
      },
      db_check: {
        db1: "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nginx"],
      web2: ["systemctl is-active nginx"],
      db1: ["systemctl is-active postgresql"],
    },
  },
  "when-false-skips": {
    status: "succeeded",
    steps: {
      check: {
        db1: "succeeded/1",
      },
      restart: {
        db1: "skipped/0",
      },
    },
    commands: {
      db1: ["systemctl is-active postgresql"],
    },
    logs: ['skipped: check.status eq "failed" does not hold on this host'],
  },
  "when-stdout-contains": {
    status: "succeeded",
    steps: {
      state: {
        web1: "succeeded/1",
        web2: "failed/1",
      },
      start: {
        web1: "skipped/0",
        web2: "succeeded/1",
      },
    },
    commands: {
      web1: ["systemctl is-active nginx"],
      web2: ["systemctl is-active nginx", "sudo systemctl start nginx"],
    },
    logs: ['skipped: state.stdout contains "inactive" does not hold on this host'],
  },
};
