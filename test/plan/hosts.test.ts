// plan() with hosts: (sites of a sites.yaml shared between machines) and
// with the disposable VMs of ffvm open URL.

import { describe, expect, it } from "vitest";
import { plan } from "../../src/plan/index.js";
import { runsOnHost } from "../../src/plan/rules/hosts.js";
import { collectStatus } from "../../src/state/status.js";
import { FakeActual, makeDesired, makeSite } from "../helpers/state.js";

const now = new Date("2026-12-04T12:00:00Z");
const gib = 1024 ** 3;
const kinds = (result: ReturnType<typeof plan>) => result.actions.map((action) => `${action.site} ${action.kind} ${action.reason}`);

describe("runsOnHost", () => {
  it.each([
    [["laptop"], "laptop", true],
    [["laptop"], "LAPTOP", true],
    [["laptop"], "laptop.home.example", true],
    [["laptop"], "desktop", false],
    [["laptop"], "laptop2", false],
    [["laptop.home.example"], "laptop.home.example", true],
    [["laptop.home.example"], "laptop.home.example.", true],
    [["laptop.home.example"], "laptop", false],
    [["laptop.home.example"], "laptop.work.example", false],
    [["desktop", "laptop"], "laptop", true],
  ])("hosts %j on %s runs: %s", (hosts, hostname, expected) => {
    expect(runsOnHost({ hosts }, hostname)).toBe(expected);
  });

  it("runs a site without hosts everywhere", () => {
    expect(runsOnHost({}, "anything")).toBe(true);
  });

  it("runs every site without a host name", () => {
    expect(runsOnHost({ hosts: ["desktop"] }, undefined)).toBe(true);
  });
});

describe("plan with hosts", () => {
  const desktopOnly = makeSite("bank", { hosts: ["desktop"], pinned: true });

  it("plans nothing for a site of another host", () => {
    const result = plan(makeDesired([desktopOnly]), new FakeActual().state, { now, hostname: "laptop" });
    expect(result.actions).toEqual([]);
    expect(result.elsewhere).toBeUndefined();
  });

  it("plans the site on its own host", () => {
    const result = plan(makeDesired([desktopOnly]), new FakeActual().state, { now, hostname: "desktop" });
    expect(kinds(result)).toEqual(["bank create-disk DiskMissing", "bank start-vm PinnedNotRunning"]);
  });

  it("keeps the disk of a site of another host", () => {
    const result = plan(makeDesired([desktopOnly]), new FakeActual().disk("bank", 2 * gib).state, { now, hostname: "laptop" });
    expect(result.actions).toEqual([]);
    expect(result.elsewhere).toEqual([{ site: "bank", hosts: ["desktop"], diskBytes: 2 * gib }]);
  });

  it("does not start it on request", () => {
    const result = plan(makeDesired([desktopOnly]), new FakeActual().disk("bank").state, { now, hostname: "laptop", start: ["bank"] });
    expect(result.actions).toEqual([]);
  });

  it("stops its running VM but keeps the disk", () => {
    const actual = new FakeActual().disk("bank").running(desktopOnly).state;
    const result = plan(makeDesired([desktopOnly]), actual, { now, hostname: "laptop" });
    expect(kinds(result)).toEqual(["bank stop-vm SiteOnOtherHost"]);
    expect(result.actions.some((action) => action.kind === "trash-disk")).toBe(false);
  });

  it("clears the record of its dead VM", () => {
    const actual = new FakeActual().disk("bank").dead(desktopOnly).state;
    expect(kinds(plan(makeDesired([desktopOnly]), actual, { now, hostname: "laptop" }))).toEqual(["bank stop-vm SiteOnOtherHost"]);
  });

  it("does not count its disk as removed for the prune guard", () => {
    const sites = ["a", "b", "c"].map((name) => makeSite(name, { hosts: ["desktop"] }));
    const actual = new FakeActual().disk("a").disk("b").disk("c").state;
    const result = plan(makeDesired(sites), actual, { now, hostname: "laptop" });
    expect(result.refusal).toBeUndefined();
    expect(result.actions).toEqual([]);
    expect(result.elsewhere?.map((entry) => entry.site)).toEqual(["a", "b", "c"]);
  });

  it("trashes the disk once the site is removed", () => {
    const result = plan(makeDesired([makeSite("mail")]), new FakeActual().disk("bank").disk("mail").state, { now, hostname: "laptop" });
    expect(kinds(result)).toEqual(["bank trash-disk SiteRemoved"]);
  });
});

describe("plan with disposable VMs", () => {
  const disposable = (state: "running" | "dead") => {
    const actual = new FakeActual();
    const record = { disposable: true, ephemeral: true, disk: "/state/run/disposable-1/ephemeral.qcow2" };
    return (state === "running" ? actual.running("disposable-1", record) : actual.dead("disposable-1", record)).state;
  };

  it("leaves a running disposable VM alone", () => {
    const result = plan(makeDesired([]), disposable("running"), { now });
    expect(result.actions).toEqual([]);
  });

  it("neither restarts nor prunes it on an image change", () => {
    const actual = disposable("running");
    actual.image = { outPathExists: true, currentId: "image-2", fingerprint: "image-2" };
    expect(plan(makeDesired([makeSite("bank")]), actual, { now }).actions.filter((action) => action.site === "disposable-1")).toEqual([]);
  });

  it("clears a disposable VM that stopped", () => {
    expect(kinds(plan(makeDesired([]), disposable("dead"), { now }))).toEqual(["disposable-1 stop-vm DisposableEnded"]);
  });

  it("stops a running one on request", () => {
    expect(kinds(plan(makeDesired([]), disposable("running"), { now, stop: ["disposable-1"] }))).toEqual(["disposable-1 stop-vm StopRequested"]);
  });

  it("still prunes an unmarked orphan", () => {
    const actual = new FakeActual().running("gone").state;
    expect(kinds(plan(makeDesired([]), actual, { now }))).toEqual(["gone stop-vm SiteRemoved"]);
  });
});

describe("collectStatus with hosts and disposable VMs", () => {
  it("shows a site of another host only while it has a disk here", () => {
    const bank = makeSite("bank", { hosts: ["desktop"] });
    expect(collectStatus(makeDesired([bank]), new FakeActual().state, new Map(), "laptop")).toEqual([]);
    const rows = collectStatus(makeDesired([bank]), new FakeActual().disk("bank").state, new Map(), "laptop");
    expect(rows.map((row) => [row.site, row.state, row.hosts])).toEqual([["bank", "other-host", ["desktop"]]]);
  });

  it("shows it as usual on its own host", () => {
    const bank = makeSite("bank", { hosts: ["desktop"] });
    const rows = collectStatus(makeDesired([bank]), new FakeActual().disk("bank").state, new Map(), "desktop");
    expect(rows.map((row) => row.state)).toEqual(["stopped"]);
  });

  it("shows a disposable VM as running, not as an orphan", () => {
    const actual = new FakeActual().running("disposable-1", { disposable: true, ephemeral: true, pid: process.pid }).state;
    const rows = collectStatus(makeDesired([]), actual);
    expect(rows.map((row) => [row.site, row.state, row.disposable])).toEqual([["disposable-1", "running", true]]);
  });
});
