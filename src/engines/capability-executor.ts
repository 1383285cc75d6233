import { classifyCommand } from "../capabilities/command-policy";
import { CapabilityError, type ExecResult, type SshCapability } from "../capabilities/types";
import type { Store } from "../store/types";

/**
 * The engines' single door to capabilities. Both engines call execute(): it checks the
 * call against the run's approved hosts and the command policy, runs it at most once per
 * journal key (a replayed or resumed run gets the recorded result), and logs output.
 */

export type SshExecCall = {
  name: "ssh.exec";
  args: { host: string; command: string; timeoutMs: number | null };
};
export type SleepCall = { name: "sleep"; args: { ms: number } };
export type LogCall = { name: "log"; args: { level: "info" | "warn" | "error"; message: string } };
export type EngineCall = SshExecCall | SleepCall | LogCall;

export type CallScope = {
  runId: string;
  /** Deterministic per run: the same call in a replay has the same key. */
  key: string;
  stepId: string | null;
  host: string | null;
  approvedHosts: ReadonlySet<string>;
  signal?: AbortSignal;
};

export type CapabilityExecutorDeps = {
  store: Store;
  ssh: SshCapability;
  /** Cap on one command when the step gives none. */
  defaultCommandTimeoutMs?: number;
};

export class CapabilityExecutor {
  constructor(private readonly deps: CapabilityExecutorDeps) {}

  async execute(call: EngineCall, scope: CallScope): Promise<unknown> {
    if (call.name === "log") return this.log(call.args.level, call.args.message, scope);
    const recorded = await this.deps.store.getJournal(scope.runId, scope.key);
    if (recorded) return recorded.result;
    const result = await this.perform(call, scope);
    await this.deps.store.putJournal({
      runId: scope.runId,
      key: scope.key,
      result,
      createdAt: new Date().toISOString(),
    });
    return result;
  }

  private async perform(call: SshExecCall | SleepCall, scope: CallScope): Promise<unknown> {
    if (call.name === "sleep") return sleep(call.args.ms, scope.signal);
    const { host, command, timeoutMs } = call.args;
    if (!scope.approvedHosts.has(host))
      throw new CapabilityError("denied", `host "${host}" is not among the hosts this flow was approved for`);
    const verdict = classifyCommand(command);
    if (verdict.class === "denied")
      throw new CapabilityError("denied", `command refused by policy: ${verdict.reason}`);
    await this.log("info", `$ ${command}`, scope);
    const result: ExecResult = await this.deps.ssh.exec(host, command, {
      timeoutMs: timeoutMs ?? this.deps.defaultCommandTimeoutMs ?? 300_000,
      signal: scope.signal,
    });
    return {
      exitCode: result.exitCode,
      signal: result.signal,
      stdout: result.stdout,
      stderr: result.stderr,
      truncated: result.truncated,
    };
  }

  private async log(level: LogCall["args"]["level"], message: string, scope: CallScope): Promise<null> {
    await this.deps.store.appendLog({
      runId: scope.runId,
      at: new Date().toISOString(),
      level,
      stepId: scope.stepId,
      host: scope.host,
      message: message.slice(0, 10_000),
    });
    return null;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CapabilityError("cancelled", "cancelled"));
    const t = setTimeout(() => resolve(null), ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new CapabilityError("cancelled", "cancelled"));
    });
  });
}
