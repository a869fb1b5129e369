import { describe, expect, it } from "vitest";
import { plan } from "../../src/plan/index.js";
import { FakeActual, makeDesired, makeSite } from "../helpers/state.js";

const now = new Date("2026-12-04T12:00:00Z");
const gib = 1024 ** 3;
const kinds = (result: ReturnType<typeof plan>) => result.actions.map((action) => `${action.site} ${action.kind} ${action.reason}`);

describe("plan", () => {
  it("creates disks and starts pinned sites", () => {
    const desired = makeDesired([makeSite("bank"), makeSite("mail", { pinned: true })]);
    const result = plan(desired, new FakeActual().state, { now });
    expect(kinds(result)).toEqual(["bank create-disk DiskMissing", "mail create-disk DiskMissing", "mail start-vm PinnedNotRunning"]);
  });

  it("plans nothing when state matches", () => {
    const bank = makeSite("bank", { pinned: true });
    const result = plan(makeDesired([bank]), new FakeActual().disk("bank").running(bank).state, { now });
    expect(result.actions).toEqual([]);
    expect(result.outdated).toEqual([]);
  });

  it("numbers actions from 1 in order", () => {
    const desired = makeDesired([makeSite("a", { pinned: true }), makeSite("b")]);
    const result = plan(desired, new FakeActual().state, { now });
    expect(result.actions.map((action) => action.id)).toEqual([1, 2, 3]);
  });

  it("starts an unpinned site only on request", () => {
    const desired = makeDesired([makeSite("bank")]);
    const actual = new FakeActual().disk("bank").state;
    expect(plan(desired, actual, { now }).actions).toEqual([]);
    expect(kinds(plan(desired, actual, { now, start: ["bank"] }))).toEqual(["bank start-vm OpenRequested"]);
  });

  it("grows a disk but never shrinks one", () => {
    const desired = makeDesired([makeSite("big", { diskBytes: 8 * gib, disk: "8G" }), makeSite("small", { diskBytes: 2 * gib, disk: "2G" })]);
    const actual = new FakeActual().disk("big", 4 * gib).disk("small", 4 * gib).state;
    const result = plan(desired, actual, { now });
    expect(kinds(result)).toEqual(["big grow-disk SizeIncreased"]);
    expect(result.actions[0]?.bytes).toBe(8 * gib);
    expect(result.actions[0]?.message).toBe("4G → 8G");
  });

  it("gives an ephemeral site no disk", () => {
    const desired = makeDesired([makeSite("temp", { ephemeral: true, pinned: true })]);
    expect(kinds(plan(desired, new FakeActual().state, { now }))).toEqual(["temp start-vm PinnedNotRunning"]);
  });

  it("restarts a VM whose settings changed", () => {
    const before = makeSite("bank", { settingsHash: "old" });
    const after = makeSite("bank", { settingsHash: "new", memory: 3072 });
    const actual = new FakeActual().disk("bank").running(before, { settings: { url: before.url, memory: 2048, cpus: 2, audio: false, vpn: null } }).state;
    const result = plan(makeDesired([after]), actual, { now });
    expect(kinds(result)).toEqual(["bank restart-vm SettingsChanged"]);
    expect(result.actions[0]?.message).toBe("memory 2048 → 3072 MiB");
  });

  it("reports outdated VMs without restarting", () => {
    const site = makeSite("bank");
    const actual = new FakeActual().disk("bank").running(site, { imageId: "image-0" }).state;
    const result = plan(makeDesired([site]), actual, { now, restartOutdated: false });
    expect(result.actions).toEqual([]);
    expect(result.outdated.map((entry) => [entry.site, entry.reasons])).toEqual([["bank", ["ImageOutdated"]]]);
  });

  it("waits for a pending build before calling VMs outdated", () => {
    const site = makeSite("bank");
    const actual = new FakeActual().disk("bank").running(site, { imageId: "old-out-path" }).image({ outPathExists: true, fingerprint: "x" }).state;
    expect(plan(makeDesired([site]), actual, { now }).actions).toEqual([]);
  });

  it("stops and trashes a removed site", () => {
    const keep = makeSite("keep");
    const actual = new FakeActual().disk("keep").disk("gone").disk("other").running("gone").state;
    const result = plan(makeDesired([keep, makeSite("other")]), actual, { now });
    expect(kinds(result)).toEqual(["gone stop-vm SiteRemoved", "gone trash-disk SiteRemoved"]);
  });

  it("clears the record of a removed dead VM", () => {
    const actual = new FakeActual().dead("gone").state;
    expect(kinds(plan(makeDesired([]), actual, { now }))).toEqual(["gone stop-vm SiteRemoved"]);
  });

  it("refuses to trash more than half", () => {
    const actual = new FakeActual().disk("a").disk("b").disk("c").state;
    const result = plan(makeDesired([makeSite("a")]), actual, { now });
    expect(result.refusal?.reason).toBe("PruneGuard");
    expect(result.refusal?.message).toContain("2 of 3 disks");
    expect(result.actions).toEqual([]);
  });

  it("trashes more than half with force", () => {
    const actual = new FakeActual().disk("a").disk("b").disk("c").state;
    const result = plan(makeDesired([makeSite("a")]), actual, { now, force: true });
    expect(kinds(result)).toEqual(["b trash-disk SiteRemoved", "c trash-disk SiteRemoved"]);
  });

  it("prunes everything for an empty file with force", () => {
    const actual = new FakeActual().disk("a").state;
    expect(plan(makeDesired([]), actual, { now }).refusal?.reason).toBe("PruneGuard");
    expect(kinds(plan(makeDesired([]), actual, { now, force: true }))).toEqual(["a trash-disk SiteRemoved"]);
  });

  it("trashes exactly half without force", () => {
    const actual = new FakeActual().disk("a").disk("b").state;
    expect(kinds(plan(makeDesired([makeSite("a")]), actual, { now }))).toEqual(["b trash-disk SiteRemoved"]);
  });

  it("stops a running site on request", () => {
    const site = makeSite("bank", { pinned: true });
    const actual = new FakeActual().disk("bank").running(site).state;
    expect(kinds(plan(makeDesired([site]), actual, { now, stop: ["bank"] }))).toEqual(["bank stop-vm StopRequested"]);
  });

  it("purges trash past the retention", () => {
    const actual = new FakeActual().trash("old", new Date("2026-11-01T00:00:00Z")).trash("new", new Date("2026-12-03T00:00:00Z")).state;
    expect(kinds(plan(makeDesired([]), actual, { now }))).toEqual(["old purge-trash TrashExpired"]);
  });

  describe("image rule", () => {
    const flake = { kind: "flake" as const, flake: "/flake", attribute: "vm" };
    const record = { version: 1, fingerprint: "f1", outPath: "/nix/store/x", runner: "/nix/store/x/bin/run-ffvm-vm", builtAt: "" };
    const cases = [
      { name: "never built", image: { outPathExists: false, fingerprint: "f1" }, expected: ["ImageNeverBuilt"] },
      { name: "source changed", image: { record, outPathExists: true, fingerprint: "f2" }, expected: ["ImageChanged"] },
      { name: "out path gone", image: { record, outPathExists: false, fingerprint: "f1" }, expected: ["ImageMissing"] },
      { name: "unchanged", image: { record, outPathExists: true, fingerprint: "f1", currentId: "/nix/store/x" }, expected: [] },
    ];
    for (const testCase of cases) {
      it(`build when ${testCase.name}`, () => {
        const actual = new FakeActual().image(testCase.image).state;
        const result = plan(makeDesired([], flake), actual, { now });
        expect(result.actions.map((action) => action.reason)).toEqual(testCase.expected);
      });
    }

    it("builds once for many sites", () => {
      const sites = Array.from({ length: 20 }, (_, index) => makeSite(`site-${index}`, { pinned: true }));
      const actual = new FakeActual().image({ record, outPathExists: true, fingerprint: "f2" }).state;
      const result = plan(makeDesired(sites, flake), actual, { now });
      expect(result.actions.filter((action) => action.kind === "build-image")).toHaveLength(1);
      expect(result.actions[0]?.kind).toBe("build-image");
    });
  });
});

describe("plan disk from trash", () => {
  it("restores the newest trashed disk", () => {
    const actual = new FakeActual().trash("bank", new Date("2026-12-01T00:00:00Z")).trash("bank", new Date("2026-12-03T00:00:00Z")).state;
    actual.trash[1]!.file = "/state/trash/bank-20261203T000000Z.qcow2";
    const result = plan(makeDesired([makeSite("bank")]), actual, { now });
    expect(result.actions.map((action) => [action.kind, action.reason, action.file])).toEqual([["create-disk", "DiskInTrash", "/state/trash/bank-20261203T000000Z.qcow2"]]);
    expect(result.actions[0]?.message).toBe("restored from trash/bank-20261203T000000Z.qcow2");
  });

  it("creates an empty disk without trash", () => {
    const actual = new FakeActual().trash("other", new Date("2026-12-03T00:00:00Z")).state;
    const result = plan(makeDesired([makeSite("bank")]), actual, { now });
    expect(result.actions.map((action) => action.reason)).toEqual(["DiskMissing"]);
  });
});
