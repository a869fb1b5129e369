// ffvm watch end to end: the built CLI as a child process, real files saved
// the ways editors and git save them, real disks, and real QEMU booting the
// test guest where a VM is involved.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isSameProcess, readStartTime } from "../../src/observe/processes.js";
import { runFfvm } from "../helpers/cli.js";
import { runnerPath } from "../helpers/guest.js";
import { WatchProcess, waitUntil } from "../service/watch-process.js";

// No scheduled heal during a test: 1 January at 00:00.
const noHeal = ["--heal-schedule", "0 0 1 1 *"];
// Debounce (150 ms) plus slack for a loaded machine: a second reconcile of
// the same save would have started by then.
const settleMs = 1000;
const reconcileStarted = /^reconcile started/;

const makeDir = (): string => realpathSync(mkdtempSync(join(tmpdir(), "ffvm-watch-")));

// A runner that fails at once; the disk-only tests never start a VM.
const writeFailingRunner = (dir: string): string => {
  const runner = join(dir, "runner");
  writeFileSync(runner, "#!/bin/sh\necho 'runner: failing on purpose' >&2\nexit 1\n", { mode: 0o755 });
  return runner;
};

// Relative paths resolve against sites.yaml; a test with a symbolic link passes absolute ones.
const sitesYaml = (sites: readonly string[], paths: { runner: string; stateDir: string } = { runner: "./runner", stateDir: "./state" }): string =>
  [
    "defaults:",
    "  disk: 64M",
    "sites:",
    ...sites.flatMap((site) => [`  ${site}:`, `    url: https://${site}.example/`]),
    "image:",
    `  runner: ${paths.runner}`,
    `stateDir: ${paths.stateDir}`,
    "",
  ].join("\n");

const watches: WatchProcess[] = [];
const startWatch = (args: string[]): WatchProcess => {
  const watch = WatchProcess.start(args);
  watches.push(watch);
  return watch;
};

afterEach(async () => {
  await Promise.all(watches.splice(0).map((watch) => watch.stop()));
});

// Saves the file, waits for `done`, then checks that the save caused exactly one reconcile.
const expectOneReconcile = async (watch: WatchProcess, save: () => void, done: () => boolean, what: string): Promise<void> => {
  const mark = watch.mark();
  save();
  await waitUntil(done, () => `${what}; log:\n${watch.log()}`);
  await watch.waitFor(/^reconcile finished/, mark);
  await sleep(settleMs);
  expect(watch.count(reconcileStarted, mark), `${what}; log since the save:\n${watch.lines.slice(mark).join("\n")}`).toBe(1);
};

describe("ffvm watch saves of sites.yaml", () => {
  const dir = makeDir();
  const config = join(dir, "sites.yaml");
  const disk = (site: string): string => join(dir, "state", "disks", `${site}.qcow2`);
  const sites = ["s0"];
  const addSite = (name: string): string => {
    sites.push(name);
    return sitesYaml(sites);
  };
  let watch: WatchProcess;

  beforeAll(async () => {
    writeFailingRunner(dir);
    writeFileSync(config, sitesYaml(sites));
    watch = WatchProcess.start(["--config", config, ...noHeal]);
    await watch.waitFor(/^reconcile finished: 1 done/);
    expect(existsSync(disk("s0"))).toBe(true);
  });

  afterAll(async () => {
    await watch.stop();
  });

  it("reconciles once at start", () => {
    expect(watch.count(reconcileStarted)).toBe(1);
    expect(watch.lines).toContain("reconcile started (start of ffvm watch)");
  });

  it("sees an in-place write", async () => {
    await expectOneReconcile(watch, () => writeFileSync(config, addSite("inplace")), () => existsSync(disk("inplace")), "in-place write");
  });

  it("sees a rename over it (vim)", async () => {
    const save = (): void => {
      writeFileSync(join(dir, ".sites.yaml.swp"), addSite("vim"));
      renameSync(join(dir, ".sites.yaml.swp"), config);
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("vim")), "write-temp-then-rename");
  });

  it("sees a rename from another directory", async () => {
    mkdirSync(join(dir, ".tmp"), { recursive: true });
    const save = (): void => {
      writeFileSync(join(dir, ".tmp", "sites.yaml.1234"), addSite("vscode"));
      renameSync(join(dir, ".tmp", "sites.yaml.1234"), config);
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("vscode")), "rename from another directory");
  });

  it("sees a backup rename (emacs)", async () => {
    const save = (): void => {
      renameSync(config, `${config}~`);
      writeFileSync(config, addSite("emacs"));
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("emacs")), "backup rename then write");
  });

  it("sees a delete then create", async () => {
    const save = (): void => {
      unlinkSync(config);
      writeFileSync(config, addSite("recreated"));
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("recreated")), "delete then create");
  });

  it("sees git pull and checkout", async () => {
    const git = (cwd: string, ...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=ffvm test", "-c", "user.email=test@ffvm.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
    const upstream = makeDir();
    writeFileSync(join(upstream, "sites.yaml"), readFileSync(config, "utf8"));
    writeFileSync(join(upstream, "runner"), readFileSync(join(dir, "runner")), { mode: 0o755 });
    git(upstream, "init", "-q");
    git(upstream, "add", ".");
    git(upstream, "commit", "-q", "-m", "first");
    // The watched directory becomes a clone with the same sites.yaml.
    git(dir, "init", "-q");
    git(dir, "remote", "add", "origin", upstream);
    git(dir, "fetch", "-q", "origin");
    git(dir, "checkout", "-q", "-f", "-b", "main", "origin/main");
    await sleep(settleMs);

    writeFileSync(join(upstream, "sites.yaml"), addSite("pulled"));
    git(upstream, "commit", "-q", "-am", "add pulled");
    await expectOneReconcile(watch, () => git(dir, "pull", "-q", "--ff-only", "origin", "main"), () => existsSync(disk("pulled")), "git pull");

    git(upstream, "checkout", "-q", "-b", "feature");
    writeFileSync(join(upstream, "sites.yaml"), sitesYaml([...sites, "branch"]));
    git(upstream, "commit", "-q", "-am", "add branch");
    git(dir, "fetch", "-q", "origin");
    await expectOneReconcile(watch, () => git(dir, "checkout", "-q", "-b", "feature", "origin/feature"), () => existsSync(disk("branch")), "git checkout of a branch");

    // Back on main, sites.yaml no longer lists "branch", so its disk goes to trash.
    await expectOneReconcile(watch, () => git(dir, "checkout", "-q", "main"), () => !existsSync(disk("branch")), "git checkout back");
    expect(watch.lines.join("\n")).toMatch(/branch trash-disk SiteRemoved done/);
  });

  it("logs a missing file and waits for it", async () => {
    const mark = watch.mark();
    unlinkSync(config);
    await watch.waitFor(/sites\.yaml: file not found/, mark);
    await sleep(settleMs);
    expect(watch.count(reconcileStarted, mark)).toBe(0);
    await expectOneReconcile(watch, () => writeFileSync(config, addSite("back")), () => existsSync(disk("back")), "file created again");
  });

  it("reconciles at once on SIGHUP", async () => {
    const mark = watch.mark();
    process.kill(watch.pid, "SIGHUP");
    await watch.waitFor(/^reconcile finished: no changes/, mark);
    expect(watch.lines.slice(mark)).toContain("reconcile started (SIGHUP)");
  });

  it("ignores other files in the directory", async () => {
    const mark = watch.mark();
    writeFileSync(join(dir, "notes.txt"), "not watched\n");
    writeFileSync(join(dir, "sites.yaml.orig"), "not watched\n");
    await sleep(settleMs);
    expect(watch.count(reconcileStarted, mark)).toBe(0);
  });

  it("keeps the last valid state through invalid saves", async () => {
    const disksBefore = readdirSync(join(dir, "state", "disks")).sort();
    const trashBefore = readdirSync(join(dir, "state", "trash")).sort();
    const mark = watch.mark();
    // Half a file: every site after the cut would be removed if it counted.
    const full = sitesYaml(sites);
    writeFileSync(config, full.slice(0, full.indexOf("inplace:") + 5));
    await watch.waitFor(/^error: .*sites\.yaml/, mark);
    await sleep(settleMs);
    // The same content saved again is not reported again.
    writeFileSync(config, full.slice(0, full.indexOf("inplace:") + 5));
    await sleep(settleMs);
    expect(watch.count(/^error: /, mark)).toBe(1);
    // Different invalid content is reported.
    writeFileSync(config, "sites: [\n");
    await waitUntil(() => watch.count(/^error: /, mark) === 2, () => watch.log());
    expect(watch.count(reconcileStarted, mark)).toBe(0);
    expect(watch.lines.slice(mark).join("\n")).toContain("stays in effect, and no VM is stopped or disk trashed");
    expect(readdirSync(join(dir, "state", "disks")).sort()).toEqual(disksBefore);
    expect(readdirSync(join(dir, "state", "trash")).sort()).toEqual(trashBefore);

    await expectOneReconcile(watch, () => writeFileSync(config, addSite("valid-again")), () => existsSync(disk("valid-again")), "valid again");
    expect(watch.lines.slice(mark).join("\n")).toContain("is valid again");
  });

  it("merges two quick writes", async () => {
    // Each write alone is a valid file, so without the debounce each would reconcile.
    const first = addSite("part-a");
    const second = addSite("part-b");
    const save = (): void => {
      writeFileSync(config, first);
      execFileSync("sleep", ["0.05"]);
      writeFileSync(config, second);
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("part-a")) && existsSync(disk("part-b")), "two writes");
  });
});

describe("ffvm watch with sites.yaml as a symbolic link", () => {
  const dir = makeDir();
  const dotfiles = join(dir, "dotfiles");
  const target = join(dotfiles, "sites.yaml");
  const link = join(dir, "sites.yaml");
  const paths = { runner: join(dir, "runner"), stateDir: join(dir, "state") };
  const disk = (site: string): string => join(dir, "state", "disks", `${site}.qcow2`);
  const sites = ["s0"];
  let watch: WatchProcess;

  beforeAll(async () => {
    mkdirSync(dotfiles);
    writeFailingRunner(dir);
    writeFileSync(target, sitesYaml(sites, paths));
    symlinkSync("dotfiles/sites.yaml", link);
    watch = WatchProcess.start(["--config", link, ...noHeal]);
    await watch.waitFor(/^reconcile finished: 1 done/);
  });

  afterAll(async () => {
    await watch.stop();
  });

  it("sees the target replaced by a rename", async () => {
    sites.push("renamed");
    const save = (): void => {
      writeFileSync(join(dotfiles, ".sites.yaml.new"), sitesYaml(sites, paths));
      renameSync(join(dotfiles, ".sites.yaml.new"), target);
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("renamed")), "link target renamed over");
  });

  it("sees the target written in place", async () => {
    sites.push("inplace");
    await expectOneReconcile(watch, () => writeFileSync(target, sitesYaml(sites, paths)), () => existsSync(disk("inplace")), "link target written");
  });

  it("sees the link pointed at another file", async () => {
    mkdirSync(join(dir, "other"));
    writeFileSync(join(dir, "other", "sites.yaml"), sitesYaml([...sites, "elsewhere"], paths));
    const save = (): void => {
      symlinkSync("other/sites.yaml", join(dir, ".link.new"));
      renameSync(join(dir, ".link.new"), link);
    };
    await expectOneReconcile(watch, save, () => existsSync(disk("elsewhere")), "link retargeted");
  });
});

describe("ffvm watch of files that sites.yaml names", () => {
  const dir = makeDir();
  const config = join(dir, "sites.yaml");
  const secret = "PrivateKey = c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";
  const bankSites = (more = ""): string =>
    [
      "sites:",
      more,
      "  bank:",
      "    url: https://bank.example/",
      "    disk: 64M",
      "    style: styles/bank.css",
      "    vpn: home",
      "    addons: [./addons/local.xpi]",
      "vpns:",
      "  home:",
      "    wireguard: ./wg/home.conf",
      "image:",
      "  runner: ./runner",
      "stateDir: ./state",
      "",
    ].join("\n");
  let watch: WatchProcess;

  beforeAll(async () => {
    writeFailingRunner(dir);
    for (const sub of ["styles", "addons", "wg"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "styles", "bank.css"), "#nav-bar { display: none }\n");
    writeFileSync(join(dir, "addons", "local.xpi"), "not really a zip\n");
    writeFileSync(join(dir, "wg", "home.conf"), `[Interface]\n${secret}\n`, { mode: 0o600 });
    writeFileSync(config, bankSites());
    watch = WatchProcess.start(["--config", config, ...noHeal]);
    await watch.waitFor(/^reconcile finished: 1 done/);
  });

  afterAll(async () => {
    await watch.stop();
  });

  // Each save of a named file reconciles once; the site is not pinned, so nothing changes.
  const expectReconcileAfter = async (save: () => void, trigger: string): Promise<void> => {
    const mark = watch.mark();
    save();
    await watch.waitFor(/^reconcile finished: no changes/, mark);
    await sleep(settleMs);
    expect(watch.count(reconcileStarted, mark), watch.log()).toBe(1);
    expect(watch.lines.slice(mark)).toContain(`reconcile started (${trigger} changed)`);
  };

  it("sees a style file edited", async () => {
    await expectReconcileAfter(() => writeFileSync(join(dir, "styles", "bank.css"), "#nav-bar { display: block }\n"), "styles/bank.css");
  });

  it("sees a style file replaced by a rename", async () => {
    const save = (): void => {
      writeFileSync(join(dir, "styles", "bank.css.tmp"), "#nav-bar { color: red }\n");
      renameSync(join(dir, "styles", "bank.css.tmp"), join(dir, "styles", "bank.css"));
    };
    await expectReconcileAfter(save, "styles/bank.css");
  });

  it("sees a local add-on replaced", async () => {
    await expectReconcileAfter(() => writeFileSync(join(dir, "addons", "local.xpi"), "another build\n"), "addons/local.xpi");
  });

  it("sees the WireGuard config edited without logging it", async () => {
    await expectReconcileAfter(() => writeFileSync(join(dir, "wg", "home.conf"), `[Interface]\n${secret}\n# edited\n`, { mode: 0o600 }), "wg/home.conf");
  });

  it("waits for a named file that does not exist yet", async () => {
    const mark = watch.mark();
    writeFileSync(config, bankSites("  mail:\n    url: https://mail.example/\n    disk: 64M\n    style: new/mail.css"));
    await watch.waitFor(/style file "new\/mail\.css" not found/, mark);
    expect(watch.count(reconcileStarted, mark)).toBe(0);
    mkdirSync(join(dir, "new"));
    await sleep(settleMs);
    writeFileSync(join(dir, "new", "mail.css"), "\n");
    await waitUntil(() => existsSync(join(dir, "state", "disks", "mail.qcow2")), () => watch.log());
    await sleep(settleMs);
    expect(watch.count(reconcileStarted, mark)).toBe(1);
  });

  it("never logs the WireGuard config", () => {
    expect(watch.log()).not.toContain("c2VjcmV0");
    expect(watch.log()).not.toContain("PrivateKey");
  });
});

describe("ffvm watch with a runner that crashes at once", () => {
  it("backs off and gives up", async () => {
    const dir = makeDir();
    const config = join(dir, "sites.yaml");
    writeFailingRunner(dir);
    writeFileSync(config, sitesYaml(["crashy"]).replace("    url: https://crashy.example/\n", "    url: https://crashy.example/\n    pinned: true\n"));
    const watch = startWatch(["--config", config, "--heal-schedule", "* * * * * *", "--retry-delay", "1", "--max-crashes", "4"]);

    await watch.waitFor(/^crashy: gave up after 4 crashes within 60 min/, 0, 60_000);
    const attempts = watch.lines.filter((line) => /crashy start-vm PinnedNotRunning failed/.test(line));
    expect(attempts, watch.log()).toHaveLength(4);
    // The cause reaches the log: the runner's output, from the tail of qemu.log.
    expect(watch.log()).toContain("runner: failing on purpose");
    // The waits before the third and fourth start double: 1 s, then 2 s.
    expect(watch.log()).toMatch(/crashy: 2 crashes within 60 min; next start at \d\d:\d\d:\d\d, in 1 s/);
    expect(watch.log()).toMatch(/crashy: 3 crashes within 60 min; next start at \d\d:\d\d:\d\d, in 2 s/);

    // Given up: the heal every second starts it no more.
    await sleep(3000);
    expect(watch.lines.filter((line) => /crashy start-vm/.test(line) && /failed/.test(line))).toHaveLength(4);

    const status = await runFfvm(["status", "--json", "--config", config]);
    expect(status.exitCode).toBe(0);
    const row = (JSON.parse(status.stdout) as { sites: { site: string; state: string; failure?: { crashes: number; gaveUp: boolean } }[] }).sites[0];
    expect(row?.state).toBe("failing");
    expect(row?.failure?.crashes).toBe(4);
    expect(row?.failure?.gaveUp).toBe(true);
    const table = await runFfvm(["status", "--config", config]);
    expect(table.stdout).toMatch(/^crashy\s+failing/m);
    expect(table.stdout).toContain("crashy: failing: ffvm watch gave up after 4 crashes; fix the cause, then run 'ffvm open crashy'");

    // Changing the site gives it a fresh start.
    const mark = watch.mark();
    writeFileSync(config, readFileSync(config, "utf8").replace("  disk: 64M", "  disk: 64M\n  memory: 256"));
    await watch.waitFor(/crashy start-vm PinnedNotRunning failed/, mark);
    await watch.waitFor(/^crashy: 1 crash within 60 min; it starts again at the next reconcile/, mark);
  });
});

describe("ffvm watch heals with the last valid state", () => {
  it("keeps healing while sites.yaml is invalid", async () => {
    const dir = makeDir();
    const config = join(dir, "sites.yaml");
    writeFailingRunner(dir);
    writeFileSync(config, sitesYaml(["crashy"]).replace("    url: https://crashy.example/\n", "    url: https://crashy.example/\n    pinned: true\n"));
    const watch = startWatch(["--config", config, "--heal-schedule", "* * * * * *", "--retry-delay", "0.2", "--max-crashes", "50"]);
    await watch.waitFor(/crashy start-vm PinnedNotRunning failed/);

    const mark = watch.mark();
    writeFileSync(config, "sites:\n  crashy: [\n");
    await watch.waitFor(/^error: /, mark);
    await sleep(4000);
    expect(watch.count(/^error: /, mark)).toBe(1);
    // The heal goes on with the last valid version, which lists the pinned site.
    expect(watch.count(/crashy start-vm PinnedNotRunning failed/, mark)).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, "state", "disks", "crashy.qcow2"))).toBe(true);
    expect(readdirSync(join(dir, "state", "trash"))).toEqual([]);
  });
});

describe("ffvm watch with the test guest", () => {
  const dir = makeDir();
  const config = join(dir, "sites.yaml");
  const state = join(dir, "state");
  const record = (): { pid: number; startTime: number } => JSON.parse(readFileSync(join(state, "vms", "guest.json"), "utf8")) as { pid: number; startTime: number };
  const guestYaml = (memory: number): string =>
    ["sites:", "  guest:", "    url: https://guest.example/", "    pinned: true", `    memory: ${memory}`, "    cpus: 1", "    disk: 64M", "image:", `  runner: ${JSON.stringify(runnerPath())}`, `stateDir: ${state}`, ""].join("\n");
  const isAlive = (entry: { pid: number; startTime: number }): boolean => entry.pid > 0 && isSameProcess(entry.pid, entry.startTime);
    // Field 6 of /proc/PID/stat; the fields after the command name are state, ppid, pgrp, session.
  const sessionOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[3]);

  beforeAll(() => {
    writeFileSync(config, guestYaml(256));
  });

  afterAll(async () => {
    writeFileSync(config, `sites: {}\nimage:\n  runner: ${JSON.stringify(runnerPath())}\nstateDir: ${state}\n`);
    await runFfvm(["reconcile", "--force", "--config", config]);
  });

  it("leaves VMs running on SIGTERM", async () => {
    const watch = startWatch(["--config", config, ...noHeal]);
    await watch.waitFor(/guest start-vm PinnedNotRunning done/, 0, 120_000);
    const vm = record();
    expect(isAlive(vm)).toBe(true);
    // The VM runs in a session of its own, not in the process group of ffvm watch.
    expect(sessionOf(vm.pid)).toBe(vm.pid);
    expect(sessionOf(vm.pid)).not.toBe(sessionOf(watch.pid));

    expect(await watch.stop("SIGTERM")).toBe(0);
    expect(watch.lines).toContain("received SIGTERM: stopping; VMs keep running");
    expect(watch.lines).toContain("ffvm watch stopped");
    expect(isAlive(vm)).toBe(true);
    expect(existsSync(join(state, "lock"))).toBe(false);
    expect(existsSync(join(state, "watch.lock"))).toBe(false);
  });

  it("adopts the running VM", async () => {
    const before = record();
    const watch = startWatch(["--config", config, ...noHeal]);
    await watch.waitFor(/^reconcile finished: no changes/);
    expect(watch.count(/start-vm/)).toBe(0);
    expect(record()).toEqual(before);
    expect(isAlive(before)).toBe(true);
  });

  it("reports an outdated VM", async () => {
    const before = record();
    const watch = startWatch(["--config", config, ...noHeal]);
    await watch.waitFor(/^reconcile finished/);
    const mark = watch.mark();
    writeFileSync(config, guestYaml(288));
    await watch.waitFor(/^guest: outdated \(memory 256 → 288 MiB\); its VM keeps running/, mark);
    await watch.waitFor(/^reconcile finished: no changes/, mark);
    expect(watch.count(/restart-vm/)).toBe(0);
    expect(record().pid).toBe(before.pid);
  });

  it("restarts a killed VM at heal", async () => {
    const before = record();
    const watch = startWatch(["--config", config, "--heal-schedule", "*/2 * * * * *"]);
    await watch.waitFor(/^reconcile finished/);
    const mark = watch.mark();
    process.kill(before.pid, "SIGKILL");
    await watch.waitFor(/^warning: guest: the VM \(pid \d+\) exited without ffvm stopping it/, mark);
    await watch.waitFor(/guest start-vm PinnedNotRunning done/, mark, 120_000);
    expect(watch.lines.slice(mark).join("\n")).toContain("reconcile started (scheduled heal)");
    const after = record();
    expect(after.pid).not.toBe(before.pid);
    expect(isAlive(after)).toBe(true);
    expect(readStartTime(before.pid)).toBeUndefined();
  });

  it("restarts an outdated VM with --restart-outdated", async () => {
    const before = record();
    const watch = startWatch(["--config", config, ...noHeal, "--restart-outdated"]);
    await watch.waitFor(/^reconcile finished/);
    const mark = watch.mark();
    writeFileSync(config, guestYaml(320));
    await watch.waitFor(/guest restart-vm SettingsChanged done/, mark, 120_000);
    const after = record();
    expect(after.pid).not.toBe(before.pid);
    expect(isAlive(after)).toBe(true);
  });
});
