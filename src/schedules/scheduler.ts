import type { Logger } from "pino";
import type { Runs } from "../engines/runs";
import type { ScheduleRecord, Store } from "../store/types";
import { nextRunAfter } from "./timing";

/**
 * Starts the runs of due schedules. Every process may run a scheduler: a due schedule is
 * claimed with a conditional update, so exactly one process starts each of its runs.
 *
 * Missed runs: a schedule that came due while no scheduler was running (the service was
 * down) runs ONCE when a scheduler is back, however many times it was missed, and then
 * continues at its next regular time after now. Catching up every missed run would flood the
 * machines with stale work; skipping them all would hide that a check did not happen.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly deps: { store: Store; runs: Runs; log: Logger; intervalMs?: number }) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over due schedules; returns the run ids started. Safe to call concurrently. */
  tick(now = new Date()): Promise<void> {
    this.ticking ??= this.fireDue(now).finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async fireDue(now: Date): Promise<void> {
    let due: ScheduleRecord[];
    try {
      due = await this.deps.store.dueSchedules(now.toISOString());
    } catch (e) {
      this.deps.log.warn({ err: e }, "scheduler: could not read due schedules; trying again next tick");
      return;
    }
    for (const s of due) await this.fire(s, now);
  }

  private async fire(s: ScheduleRecord, now: Date): Promise<void> {
    const next = nextRunAfter(s.kind, s.spec, now);
    const claimed = await this.deps.store.claimSchedule(s.id, s.nextRunAt!, {
      nextRunAt: next?.toISOString() ?? null,
      enabled: next !== null,
      at: now.toISOString(),
    });
    if (!claimed) return;
    const subject = `schedule:${s.id}`;
    try {
      const run = await this.deps.runs.start(s.flowId, s.version, s.params, {
        actor: subject,
        via: "schedule",
        detail: { dueAt: s.nextRunAt },
      });
      await this.deps.store.recordScheduledRun(s.id, run.id);
    } catch (e) {
      // The version may have been superseded or its bundle changed: the run is refused, the
      // schedule keeps its cadence, and the refusal is on record for whoever looks.
      const message = e instanceof Error ? e.message : String(e);
      this.deps.log.warn({ schedule: s.id, err: message }, "scheduled run refused");
      await this.deps.store.appendAudit({
        at: now.toISOString(),
        actor: subject,
        action: "schedule.run_refused",
        subject,
        detail: { reason: message },
      });
    }
  }
}
