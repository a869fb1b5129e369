// WatchService in this process, with real files and disks: scheduled resets,
// resets missed while the process could not run, and catch-up at start.
// The event loop is blocked with Atomics.wait to stand in for a suspend:
// timers fire late and the wall clock jumps, as after a resume.

import { existsSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Output } from "../../src/cli/output.js";
import { defaultBackoffPolicy } from "../../src/service/backoff.js";
import { createServiceLog } from "../../src/service/log.js";
import { writeServiceState, emptyServiceState } from "../../src/service/state.js";
import { WatchService } from "../../src/service/watch.js";
import { statePaths } from "../../src/state/paths.js";
import { waitUntil } from "./watch-process.js";

const makeDir = (): string => realpathSync(mkdtempSync(join(tmpdir(), "ffvm-service-")));

// A cron expression that matches only `date`, to the second, in local time.
const cronAt = (date: Date): string => `${date.getSeconds()} ${date.getMinutes()} ${date.getHours()} ${date.getDate()} ${date.getMonth() + 1} *`;

const sitesYaml = (reset?: string): string =>
  ["sites:", "  daily:", "    url: https://daily.example/", "    disk: 64M", ...(reset === undefined ? [] : [`    reset: "${reset}"`]), "image:", "  runner: ./runner", "stateDir: ./state", ""].join("\n");

const blockEventLoop = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

describe("WatchService resets", () => {
  const services: WatchService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.stop("end of test")));
  });

  const start = async (dir: string): Promise<{ service: WatchService; lines: string[] }> => {
    const lines: string[] = [];
    const output: Output = { out: (text) => lines.push(...text.split("\n")), err: (text) => lines.push(...text.split("\n")), color: false };
    const service = new WatchService(
      {
        configFile: join(dir, "sites.yaml"),
        healSchedule: "0 0 1 1 *",
        trashRetentionMs: 7 * 24 * 3600 * 1000,
        restartOutdated: false,
        backoff: defaultBackoffPolicy,
        clockCheckMs: 200,
        clockJumpMs: 1000,
      },
      createServiceLog(output, false),
    );
    services.push(service);
    await service.start();
    return { service, lines };
  };

  const setup = (reset?: string): { dir: string; trash: () => string[]; disk: string } => {
    const dir = makeDir();
    writeFileSync(join(dir, "runner"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    writeFileSync(join(dir, "sites.yaml"), sitesYaml(reset));
    return { dir, trash: () => readdirSync(join(dir, "state", "trash")), disk: join(dir, "state", "disks", "daily.qcow2") };
  };

  it("resets a disk at its slot", async () => {
    const { dir, trash, disk } = setup();
    const { lines } = await start(dir);
    await waitUntil(() => existsSync(disk), () => lines.join("\n"));

    const slot = new Date(Date.now() + 2500);
    writeFileSync(join(dir, "sites.yaml"), sitesYaml(cronAt(slot)));
    await waitUntil(() => trash().length === 1, () => lines.join("\n"), 10_000);
    await waitUntil(() => lines.includes("daily: disk reset; the old disk is in the trash"), () => lines.join("\n"), 5000);
    expect(lines).toContain("reconcile started (reset of daily due)");
    expect(lines.some((line) => /daily trash-disk ResetDue done/.test(line))).toBe(true);
    expect(lines.some((line) => /daily create-disk ResetDue done/.test(line))).toBe(true);
    expect(existsSync(disk)).toBe(true);
    await sleep(1500);
    expect(trash()).toHaveLength(1);
  });

  it("makes up a reset missed asleep", async () => {
    const { dir, trash, disk } = setup();
    const { lines } = await start(dir);
    await waitUntil(() => existsSync(disk), () => lines.join("\n"));

    const slot = new Date(Date.now() + 1500);
    const mark = lines.length;
    writeFileSync(join(dir, "sites.yaml"), sitesYaml(cronAt(slot)));
    await waitUntil(() => lines.slice(mark).some((line) => line.startsWith("reconcile finished")), () => lines.join("\n"));
    // Blocked past the slot by more than node-cron's 1 s tolerance, so node-cron skips it.
    blockEventLoop(slot.getTime() - Date.now() + 2500);

    await waitUntil(() => trash().length === 1, () => lines.join("\n"), 10_000);
    expect(lines.some((line) => /^the wall clock jumped by \d+ s/.test(line))).toBe(true);
    expect(lines.some((line) => /^daily: reset of .* was missed; it is made up now$/.test(line))).toBe(true);
    await sleep(1500);
    expect(trash()).toHaveLength(1);
  });

  it("makes up a reset missed while stopped", async () => {
    const slot = new Date(Date.now() - 10 * 60_000);
    const { dir, trash, disk } = setup(cronAt(slot));
    // The disk existed before, and ffvm watch last ran an hour ago.
    const { lines: firstLines, service } = await start(dir);
    await waitUntil(() => existsSync(disk), () => firstLines.join("\n"));
    await service.stop("first run over");
    const state = emptyServiceState();
    state.lastSeenAt = new Date(Date.now() - 60 * 60_000).toISOString();
    await writeServiceState(statePaths(join(dir, "state")), state);

    const { lines } = await start(dir);
    await waitUntil(() => trash().length === 1, () => lines.join("\n"), 10_000);
    expect(lines.some((line) => /^daily: reset of .* was missed; it is made up now$/.test(line))).toBe(true);
  });

  it("skips slots before the last run", async () => {
    const slot = new Date(Date.now() - 10 * 60_000);
    const { dir, trash, disk } = setup(cronAt(slot));
    const { lines: firstLines, service } = await start(dir);
    await waitUntil(() => existsSync(disk), () => firstLines.join("\n"));
    await service.stop("first run over");

    const { lines } = await start(dir);
    await waitUntil(() => lines.some((line) => line.startsWith("reconcile finished")), () => lines.join("\n"));
    expect(trash()).toEqual([]);
  });
});
