// The plan inputs ffvm watch adds: holdStarts (crash backoff) and resetDisks
// (scheduled resets), and the failing state of ffvm status.

import { describe, expect, it } from "vitest";
import { plan } from "../../src/plan/index.js";
import { collectStatus } from "../../src/state/status.js";
import { FakeActual, makeDesired, makeSite } from "../helpers/state.js";

const now = new Date("2026-12-04T12:00:00Z");
const kinds = (result: ReturnType<typeof plan>): string[] => result.actions.map((action) => `${action.site} ${action.kind} ${action.reason}`);

describe("plan with holdStarts", () => {
  it("does not start a held pinned site", () => {
    const bank = makeSite("bank", { pinned: true });
    const mail = makeSite("mail", { pinned: true });
    const actual = new FakeActual().disk("bank").disk("mail").dead(bank).state;
    expect(kinds(plan(makeDesired([bank, mail]), actual, { now, holdStarts: ["bank"] }))).toEqual(["mail start-vm PinnedNotRunning"]);
  });

  it("leaves a running held site alone", () => {
    const bank = makeSite("bank", { pinned: true });
    const actual = new FakeActual().disk("bank").running(bank).state;
    expect(kinds(plan(makeDesired([bank]), actual, { now, holdStarts: ["bank"] }))).toEqual([]);
  });
});

describe("plan with resetDisks", () => {
  it("trashes and recreates the disk of a stopped site", () => {
    const bank = makeSite("bank");
    const actual = new FakeActual().disk("bank").state;
    const result = plan(makeDesired([bank]), actual, { now, resetDisks: ["bank"] });
    expect(kinds(result)).toEqual(["bank trash-disk ResetDue", "bank create-disk ResetDue"]);
    expect(result.actions[1]?.bytes).toBe(bank.diskBytes);
  });

  it("resets a dead pinned site before starting it", () => {
    const bank = makeSite("bank", { pinned: true });
    const actual = new FakeActual().disk("bank").dead(bank).state;
    expect(kinds(plan(makeDesired([bank]), actual, { now, resetDisks: ["bank"] }))).toEqual([
      "bank trash-disk ResetDue",
      "bank create-disk ResetDue",
      "bank start-vm PinnedNotRunning",
    ]);
  });

  it("waits while the VM runs", () => {
    const bank = makeSite("bank");
    const actual = new FakeActual().disk("bank").running(bank).state;
    expect(kinds(plan(makeDesired([bank]), actual, { now, resetDisks: ["bank"] }))).toEqual([]);
  });

  it("skips an ephemeral site", () => {
    const temp = makeSite("temp", { ephemeral: true });
    expect(kinds(plan(makeDesired([temp]), new FakeActual().state, { now, resetDisks: ["temp"] }))).toEqual([]);
  });

  it("is not refused by the prune guard", () => {
    const bank = makeSite("bank");
    const result = plan(makeDesired([bank]), new FakeActual().disk("bank").state, { now, resetDisks: ["bank"] });
    expect(result.refusal).toBeUndefined();
  });
});

describe("collectStatus with failures", () => {
  const failure = { crashes: 5, gaveUp: true, retryAt: null, lastError: "start-vm failed: QEMU exited during start-up" };

  it("shows a stopped pinned site in backoff as failing", () => {
    const bank = makeSite("bank", { pinned: true });
    const rows = collectStatus(makeDesired([bank]), new FakeActual().disk("bank").dead(bank).state, new Map([["bank", failure]]));
    expect(rows[0]?.state).toBe("failing");
    expect(rows[0]?.failure).toEqual(failure);
  });

  it("shows a running site as running", () => {
    const bank = makeSite("bank", { pinned: true });
    const rows = collectStatus(makeDesired([bank]), new FakeActual().disk("bank").running(bank, { pid: process.pid }).state, new Map([["bank", failure]]));
    expect(rows[0]?.state).toBe("running");
    expect(rows[0]?.failure).toBeUndefined();
  });
});
