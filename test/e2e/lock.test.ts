// The state directory lock across real processes: two ffvm reconcile runs at
// once, ffvm watch against the CLI, and a holder killed with SIGKILL.
//
// A pinned site whose runner sleeps 3 s and then exits keeps a reconcile busy,
// and so holds the lock, for about 3 s without booting a VM.

import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { ffvmBin, runFfvm } from "../helpers/cli.js";
import { WatchProcess, waitUntil } from "../service/watch-process.js";

const setup = (pinned = true) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "ffvm-lock-e2e-")));
  writeFileSync(join(dir, "runner"), "#!/bin/sh\nsleep 3\nexit 1\n", { mode: 0o755 });
  const config = join(dir, "sites.yaml");
  const write = (isPinned: boolean): void =>
    writeFileSync(config, ["sites:", "  slow:", "    url: https://slow.example/", "    disk: 64M", `    pinned: ${isPinned}`, "image:", "  runner: ./runner", "stateDir: ./state", ""].join("\n"));
  write(pinned);
  return { dir, config, lock: join(dir, "state", "lock"), write };
};

// Starts `ffvm reconcile` without waiting for it, with the environment of runFfvm.
const startReconcile = (config: string, ...args: string[]) =>
  execa("node", [ffvmBin, "reconcile", "--config", config, ...args], {
    env: { NO_COLOR: "1", FFVM_ALLOW_ROOT: "1" },
    reject: false,
    stdin: "ignore",
  });

const holderOf = (lock: string): { pid: number; command: string } => JSON.parse(readFileSync(lock, "utf8")) as { pid: number; command: string };

const watches: WatchProcess[] = [];
afterEach(async () => {
  await Promise.all(watches.splice(0).map((watch) => watch.stop()));
});

describe("state directory lock between processes", () => {
  it("fails or waits on a busy lock", async () => {
    const { config, lock } = setup();
    const first = startReconcile(config);
    await waitUntil(() => existsSync(lock), () => "the first reconcile never took the lock");
    expect(holderOf(lock)).toMatchObject({ pid: first.pid, command: "ffvm reconcile" });

    const started = Date.now();
    const noWait = await runFfvm(["reconcile", "--no-wait", "--config", config]);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(noWait.exitCode).toBe(1);
    expect(noWait.stderr).toContain(`state directory is locked by pid ${first.pid} (ffvm reconcile)`);

    const waiting = startReconcile(config);
    let firstDone = 0;
    void first.then(() => {
      firstDone = Date.now();
    });
    const second = await waiting;
    expect(second.stderr).toContain(`waiting for the state directory lock held by pid ${first.pid} (ffvm reconcile)`);
    expect(firstDone).toBeGreaterThan(0);
    // The waiting run started its own attempt only after the first one ended.
    expect((await first).exitCode).toBe(1);
    expect(second.stderr).toMatch(/slow start-vm PinnedNotRunning failed/);
    expect(existsSync(lock)).toBe(false);
  });

  it("recovers a killed holder's lock", async () => {
    const { config, lock, write } = setup();
    const first = startReconcile(config);
    await waitUntil(() => existsSync(lock), () => "the first reconcile never took the lock");
    first.kill("SIGKILL");
    await first;
    expect(holderOf(lock).pid).toBe(first.pid);

    write(false);
    const next = await runFfvm(["reconcile", "--no-wait", "--config", config]);
    expect(next.stderr).not.toContain("locked");
    expect(next.exitCode).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it("makes ffvm reconcile wait for ffvm watch", async () => {
    const { config, lock } = setup();
    const watch = WatchProcess.start(["--config", config, "--heal-schedule", "0 0 1 1 *"]);
    watches.push(watch);
    await watch.waitFor(/slow start-vm started/);
    expect(holderOf(lock)).toMatchObject({ pid: watch.pid, command: "ffvm watch" });

    const noWait = await runFfvm(["reconcile", "--no-wait", "--config", config]);
    expect(noWait.exitCode).toBe(1);
    expect(noWait.stderr).toContain(`state directory is locked by pid ${watch.pid} (ffvm watch)`);

    const waiting = await runFfvm(["reconcile", "--config", config]);
    expect(waiting.stderr).toContain(`waiting for the state directory lock held by pid ${watch.pid} (ffvm watch)`);
    expect(watch.count(/slow start-vm PinnedNotRunning failed/)).toBeGreaterThanOrEqual(1);
  });

  it("releases the lock when watch stops mid-start", async () => {
    const { config, lock } = setup();
    const watch = WatchProcess.start(["--config", config, "--heal-schedule", "0 0 1 1 *"]);
    watches.push(watch);
    await watch.waitFor(/slow start-vm started/);
    expect(existsSync(lock)).toBe(true);
    expect(await watch.stop("SIGTERM")).toBe(0);
    expect(existsSync(lock)).toBe(false);
    // A start cut short by the stop is not a crash of the site.
    expect(watch.log()).not.toMatch(/slow: 1 crash/);
    expect(watch.lines).toContain("ffvm watch stopped");
  });

  it("stops watch while it waits for the lock", async () => {
    const { config, lock } = setup();
    const holder = startReconcile(config);
    await waitUntil(() => existsSync(lock), () => "the reconcile never took the lock");
    const watch = WatchProcess.start(["--config", config, "--heal-schedule", "0 0 1 1 *"]);
    watches.push(watch);
    await watch.waitFor(new RegExp(`waiting for the state directory lock held by pid ${holder.pid} \\(ffvm reconcile\\)`));
    const stopped = Date.now();
    expect(await watch.stop("SIGTERM")).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect(holderOf(lock).pid).toBe(holder.pid);
    await holder;
  });

  it("allows one watch per state directory", async () => {
    const { config } = setup(false);
    const first = WatchProcess.start(["--config", config, "--heal-schedule", "0 0 1 1 *"]);
    watches.push(first);
    await first.waitFor(/^reconcile finished/);
    const second = WatchProcess.start(["--config", config, "--heal-schedule", "0 0 1 1 *"]);
    watches.push(second);
    expect(await second.exited).toBe(1);
    expect(second.log()).toContain(`another ffvm watch (pid ${first.pid}) already manages`);
  });
});
