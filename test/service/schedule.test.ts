import { describe, expect, it } from "vitest";
import { describeCronError, isClockJump, latestSlotBetween } from "../../src/service/schedule.js";

// Local time, as node-cron matches in local time.
const local = (hour: number, minute: number, second = 0, day = 4): Date => new Date(2026, 11, day, hour, minute, second);

describe("describeCronError", () => {
  it("accepts five and six fields", () => {
    expect(describeCronError("*/5 * * * *")).toBeUndefined();
    expect(describeCronError("*/2 * * * * *")).toBeUndefined();
  });

  it("names the bad field", () => {
    expect(describeCronError("61 * * * *")).toContain("61");
    expect(describeCronError("every minute")).toContain("expected 5 or 6 fields");
  });
});

describe("latestSlotBetween", () => {
  it("finds a daily slot that passed", () => {
    expect(latestSlotBetween("0 4 * * *", local(23, 0, 0, 3), local(8, 30))).toEqual(local(4, 0));
  });

  it("returns the latest of several slots", () => {
    expect(latestSlotBetween("0 * * * *", local(1, 30), local(5, 10))).toEqual(local(5, 0));
  });

  it("finds a slot with seconds", () => {
    expect(latestSlotBetween("30 0 4 * * *", local(3, 0), local(5, 0))).toEqual(local(4, 0, 30));
  });

  it("excludes the start and includes the end", () => {
    expect(latestSlotBetween("0 4 * * *", local(4, 0), local(5, 0))).toBeUndefined();
    expect(latestSlotBetween("0 4 * * *", local(3, 0), local(4, 0))).toEqual(local(4, 0));
  });

  it("returns undefined without a slot", () => {
    expect(latestSlotBetween("0 4 * * *", local(5, 0), local(23, 0))).toBeUndefined();
  });

  it("returns undefined for an empty range", () => {
    expect(latestSlotBetween("* * * * *", local(5, 0), local(5, 0))).toBeUndefined();
  });
});

describe("isClockJump", () => {
  it("ignores a timer on time", () => {
    expect(isClockJump(0, 5_200, 5_000, 30_000)).toBe(false);
  });

  it("sees a suspend", () => {
    expect(isClockJump(0, 3_600_000, 5_000, 30_000)).toBe(true);
  });

  it("sees a clock set back", () => {
    expect(isClockJump(3_600_000, 0, 5_000, 30_000)).toBe(true);
  });
});
