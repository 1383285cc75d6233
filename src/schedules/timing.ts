import { Cron } from "croner";
import type { ScheduleRecord } from "../store/types";

/**
 * When a schedule runs next. Cron expressions are evaluated in UTC (five or six fields);
 * intervals count from the moment given; a one-off runs once at its time and then stops.
 */

export class ScheduleSpecError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = "ScheduleSpecError";
  }
}

export const MIN_INTERVAL_MS = 10_000;

/** Throws a ScheduleSpecError naming the field when the spec cannot be a schedule. */
export function validateSpec(kind: ScheduleRecord["kind"], spec: string, now: Date): void {
  if (kind === "cron") {
    try {
      const next = new Cron(spec, { paused: true, timezone: "UTC" }).nextRun(now);
      if (!next) throw new Error("it never fires");
    } catch (e) {
      throw new ScheduleSpecError(`cron: ${(e as Error).message}`, "cron");
    }
  } else if (kind === "interval") {
    const ms = Number(spec);
    if (!Number.isInteger(ms) || ms < MIN_INTERVAL_MS)
      throw new ScheduleSpecError(
        `everyMs: must be a whole number of at least ${MIN_INTERVAL_MS}`,
        "everyMs",
      );
  } else {
    const at = Date.parse(spec);
    if (Number.isNaN(at)) throw new ScheduleSpecError("at: must be an ISO date and time", "at");
    if (at <= now.getTime()) throw new ScheduleSpecError("at: must be in the future", "at");
  }
}

/** The first run time strictly after `after`, or null when the schedule has no more runs. */
export function nextRunAfter(kind: ScheduleRecord["kind"], spec: string, after: Date): Date | null {
  if (kind === "cron") return new Cron(spec, { paused: true, timezone: "UTC" }).nextRun(after);
  if (kind === "interval") return new Date(after.getTime() + Number(spec));
  const at = new Date(spec);
  return at > after ? at : null;
}
