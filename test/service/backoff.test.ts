import { describe, expect, it } from "vitest";
import {
  decideStart,
  isFailing,
  isNewCrash,
  recordCrash,
  restartDelayMs,
  reviewRecord,
  type BackoffPolicy,
  type CrashRecord,
} from "../../src/service/backoff.js";

const policy: BackoffPolicy = { firstDelayMs: 10_000, maxDelayMs: 60_000, maxCrashes: 5, windowMs: 3_600_000 };
const version = { settingsHash: "s1", imageId: "i1" };
const at = (seconds: number): Date => new Date(Date.UTC(2026, 11, 4, 12, 0, 0) + seconds * 1000);

// Records `count` crashes, `gapSeconds` apart, starting at second 0.
const crashTimes = (count: number, gapSeconds: number): CrashRecord | undefined => {
  let record: CrashRecord | undefined;
  for (let index = 0; index < count; index++) record = recordCrash(record, at(index * gapSeconds), `crash ${index + 1}`, version, policy);
  return record;
};

describe("restartDelayMs", () => {
  it.each([
    [0, 0],
    [1, 0],
    [2, 10_000],
    [3, 20_000],
    [4, 40_000],
    [5, 60_000],
    [9, 60_000],
  ])("after %i crashes waits %i ms", (crashes, delay) => {
    expect(restartDelayMs(crashes, policy)).toBe(delay);
  });
});

describe("recordCrash", () => {
  it("restarts at once after the first crash", () => {
    const record = recordCrash(undefined, at(0), "QEMU exited", version, policy);
    expect(record.crashes).toEqual([at(0).toISOString()]);
    expect(record.retryAt).toBeUndefined();
    expect(record.gaveUpAt).toBeUndefined();
    expect(decideStart(record, at(0))).toEqual({ kind: "start" });
  });

  it("waits longer after each crash", () => {
    const second = recordCrash(crashTimes(1, 0), at(1), "again", version, policy);
    expect(second.retryAt).toBe(at(11).toISOString());
    expect(decideStart(second, at(5))).toEqual({ kind: "wait", until: at(11) });
    expect(decideStart(second, at(11))).toEqual({ kind: "start" });
    const third = recordCrash(second, at(12), "again", version, policy);
    expect(third.retryAt).toBe(at(32).toISOString());
  });

  it("gives up at maxCrashes within the window", () => {
    const record = crashTimes(5, 60);
    expect(record?.gaveUpAt).toBe(at(240).toISOString());
    expect(record?.retryAt).toBeUndefined();
    expect(decideStart(record, at(10_000))).toEqual({ kind: "given-up" });
    expect(isFailing(record)).toBe(true);
  });

  it("forgets crashes older than the window", () => {
    // Four crashes, then a fifth two hours later: only one is within the hour.
    const record = recordCrash(crashTimes(4, 1), at(7200), "late", version, policy);
    expect(record.crashes).toEqual([at(7200).toISOString()]);
    expect(record.gaveUpAt).toBeUndefined();
    expect(record.retryAt).toBeUndefined();
  });

  it("keeps the last error", () => {
    expect(crashTimes(2, 1)?.lastError).toBe("crash 2");
  });
});

describe("isNewCrash", () => {
  it("counts a VM that started after the last crash", () => {
    const record = crashTimes(1, 0);
    expect(isNewCrash(record, at(5).toISOString())).toBe(true);
  });

  it("skips the dead VM already counted", () => {
    const record = crashTimes(1, 0);
    expect(isNewCrash(record, at(-1).toISOString())).toBe(false);
  });

  it("counts any dead VM without history", () => {
    expect(isNewCrash(undefined, at(0).toISOString())).toBe(true);
  });
});

describe("reviewRecord", () => {
  it("keeps crashes within the window", () => {
    const record = crashTimes(2, 10);
    const reviewed = reviewRecord(record, { running: false, version }, at(100), policy);
    expect(reviewed?.crashes).toHaveLength(2);
  });

  it("drops a history that aged out while the VM runs", () => {
    const record = crashTimes(2, 10);
    expect(reviewRecord(record, { running: true, version }, at(3700), policy)).toBeUndefined();
  });

  it("keeps the last crash time of an aged-out history while the VM is down", () => {
    const record = crashTimes(2, 10);
    const reviewed = reviewRecord(record, { running: false, version }, at(3700), policy);
    expect(reviewed?.crashes).toEqual([]);
    expect(reviewed?.lastCrashAt).toBe(at(10).toISOString());
    expect(isFailing(reviewed)).toBe(false);
    expect(decideStart(reviewed, at(3700))).toEqual({ kind: "start" });
  });

  it("gives a fresh start when the settings change", () => {
    const record = crashTimes(5, 1);
    const reviewed = reviewRecord(record, { running: false, version: { settingsHash: "s2", imageId: "i1" } }, at(10), policy);
    expect(reviewed?.gaveUpAt).toBeUndefined();
    expect(reviewed?.crashes).toEqual([]);
    expect(decideStart(reviewed, at(10))).toEqual({ kind: "start" });
  });

  it("gives a fresh start when the image changes", () => {
    const record = crashTimes(5, 1);
    const reviewed = reviewRecord(record, { running: false, version: { settingsHash: "s1", imageId: "i2" } }, at(10), policy);
    expect(decideStart(reviewed, at(10))).toEqual({ kind: "start" });
  });

  it("stays given up while nothing changes", () => {
    const record = crashTimes(5, 1);
    const reviewed = reviewRecord(record, { running: false, version }, at(100_000), policy);
    expect(decideStart(reviewed, at(100_000))).toEqual({ kind: "given-up" });
  });

  it("forgets giving up once the VM was started by hand", () => {
    const record = crashTimes(5, 1);
    const reviewed = reviewRecord(record, { running: true, version }, at(10), policy);
    expect(reviewed?.gaveUpAt).toBeUndefined();
    expect(isFailing(reviewed)).toBe(false);
  });

  it("returns undefined without a record", () => {
    expect(reviewRecord(undefined, { running: false, version }, at(0), policy)).toBeUndefined();
  });
});
