// Cron schedules of `ffvm watch` (node-cron 4) and the suspend detection that
// node-cron lacks.
//
// node-cron arms a setTimeout for the next slot. Node's timers run on the
// monotonic clock, which stops while the machine sleeps, so after a resume
// the timer fires late, and node-cron 4 then reports the slots that passed as
// missed (execution:missed) without running them. ffvm watch therefore checks
// the wall clock itself every few seconds: a jump means the machine slept (or
// the clock was set), and it then reconciles and makes up missed resets.

import { createTask, parse, validateDetailed, type ScheduledTask, type TaskOptions } from "node-cron";

/** Returns why a cron expression is invalid, or undefined when node-cron accepts it. */
export const describeCronError = (expression: string): string | undefined => {
  const { valid, errors } = validateDetailed(expression);
  if (valid) return undefined;
  return errors.map((error) => error.message).join("; ") || "invalid cron expression";
};

/** Creates a started node-cron task that calls `run` with the scheduled time of each slot. */
export const scheduleTask = (expression: string, name: string, run: (slot: Date) => void, onMissed?: (slot: Date) => void): ScheduledTask => {
  const options: TaskOptions = { name, noOverlap: true };
  const task = createTask(expression, (context) => run(context.date), options);
  // A listener also keeps node-cron from printing its own warning.
  task.on("execution:missed", (context) => onMissed?.(context.date));
  void task.start();
  return task;
};

// Scanning stops this far back; a reset missed longer ago is made up once, as
// if its slot were the start of the scan.
const maxScanMs = 8 * 24 * 60 * 60 * 1000;

/**
 * Returns the latest slot of `expression` in (from, to], or undefined if none.
 * Checks each minute of the range backwards, at each second the expression
 * names, in local time as node-cron does.
 */
export const latestSlotBetween = (expression: string, from: Date, to: Date): Date | undefined => {
  if (to.getTime() <= from.getTime()) return undefined;
  const seconds = [...parse(expression).second].sort((a, b) => b - a);
  const matcher = createTask(expression, () => undefined);
  try {
    const start = Math.max(from.getTime(), to.getTime() - maxScanMs);
    const minute = new Date(to);
    minute.setSeconds(0, 0);
    for (let time = minute.getTime(); time + 59_999 > start; time -= 60_000) {
      for (const second of seconds) {
        const candidate = new Date(time + second * 1000);
        if (candidate.getTime() > to.getTime() || candidate.getTime() <= start) continue;
        if (matcher.match(candidate)) return candidate;
      }
    }
    return undefined;
  } finally {
    void matcher.destroy();
  }
};

/** Tells whether the wall clock moved more than `toleranceMs` away from the `intervalMs` an interval timer waited. */
export const isClockJump = (previousWallMs: number, wallMs: number, intervalMs: number, toleranceMs: number): boolean =>
  Math.abs(wallMs - previousWallMs - intervalMs) > toleranceMs;

export interface ClockJumpDetector {
  stop: () => void;
}

/**
 * Reads the wall clock every `intervalMs` and calls `onJump` with the wall
 * times before and after a gap longer than expected: a suspend and resume, a
 * stopped process (SIGSTOP), or a clock that was set.
 */
export const watchClockJumps = (intervalMs: number, toleranceMs: number, onJump: (before: Date, after: Date) => void): ClockJumpDetector => {
  let previousWall = Date.now();
  const timer = setInterval(() => {
    const wall = Date.now();
    if (isClockJump(previousWall, wall, intervalMs, toleranceMs)) onJump(new Date(previousWall), new Date(wall));
    previousWall = wall;
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
};
