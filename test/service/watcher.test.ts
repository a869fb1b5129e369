// FileWatcher against real files: each way of saving must produce an event,
// and files that do not matter must not.

import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FileWatcher } from "../../src/service/watcher.js";

// Long enough for inotify events to arrive on a loaded two-core machine.
const settleMs = 400;

const makeDir = (): string => realpathSync(mkdtempSync(join(tmpdir(), "ffvm-watcher-")));

describe("FileWatcher", () => {
  const watchers: FileWatcher[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
  });

  const start = async (files: string[], trees: string[] = []): Promise<string[]> => {
    const events: string[] = [];
    const watcher = new FileWatcher({ onChange: (path) => events.push(path), onError: (error) => events.push(`error: ${error.message}`) });
    watchers.push(watcher);
    await watcher.update({ files, trees });
    return events;
  };

  // Runs `save`, waits, and returns the events it caused.
  const eventsOf = async (events: string[], save: () => void): Promise<string[]> => {
    events.length = 0;
    save();
    await sleep(settleMs);
    return [...events];
  };

  it("sees each way of saving sites.yaml", async () => {
    const dir = makeDir();
    const config = join(dir, "sites.yaml");
    writeFileSync(config, "v0\n");
    const events = await start([config]);

    const saves: [string, () => void][] = [
      ["in place", () => writeFileSync(config, "v1\n")],
      ["temporary file renamed over it", () => {
        writeFileSync(join(dir, ".sites.yaml.swp"), "v2\n");
        renameSync(join(dir, ".sites.yaml.swp"), config);
      }],
      ["old file moved to a backup", () => {
        renameSync(config, `${config}~`);
        writeFileSync(config, "v3\n");
      }],
      ["deleted and created", () => {
        unlinkSync(config);
        writeFileSync(config, "v4\n");
      }],
    ];
    for (const [name, save] of saves) {
      expect(await eventsOf(events, save), name).toContain(config);
    }
  });

  it("ignores other files in the directory", async () => {
    const dir = makeDir();
    const config = join(dir, "sites.yaml");
    writeFileSync(config, "v0\n");
    const events = await start([config]);
    expect(await eventsOf(events, () => writeFileSync(join(dir, "notes.txt"), "x"))).toEqual([]);
    expect(await eventsOf(events, () => mkdirSync(join(dir, "state")))).toEqual([]);
  });

  it("sees the target of a symbolic link replaced", async () => {
    const dir = makeDir();
    mkdirSync(join(dir, "dotfiles"));
    const target = join(dir, "dotfiles", "sites.yaml");
    writeFileSync(target, "v0\n");
    const link = join(dir, "sites.yaml");
    symlinkSync(target, link);
    const events = await start([link]);

    const replaced = await eventsOf(events, () => {
      writeFileSync(join(dir, "dotfiles", "new"), "v1\n");
      renameSync(join(dir, "dotfiles", "new"), target);
    });
    expect(replaced).toContain(target);
    expect(await eventsOf(events, () => writeFileSync(target, "v2\n"))).toContain(target);
  });

  it("sees a symbolic link pointed elsewhere", async () => {
    const dir = makeDir();
    writeFileSync(join(dir, "a.yaml"), "a\n");
    writeFileSync(join(dir, "b.yaml"), "b\n");
    const link = join(dir, "sites.yaml");
    symlinkSync("a.yaml", link);
    const events = await start([link]);
    const retargeted = await eventsOf(events, () => {
      symlinkSync("b.yaml", join(dir, "next"));
      renameSync(join(dir, "next"), link);
    });
    expect(retargeted).toContain(link);
  });

  it("sees a missing file's directory appear", async () => {
    const dir = makeDir();
    const style = join(dir, "styles", "bank.css");
    const events = await start([style]);
    expect(await eventsOf(events, () => mkdirSync(join(dir, "styles")))).toContain(join(dir, "styles"));
  });

  it("watches the image flake tree but not its result link or .git", async () => {
    const dir = makeDir();
    const flake = join(dir, "nix");
    mkdirSync(join(flake, "modules"), { recursive: true });
    mkdirSync(join(flake, ".git"));
    writeFileSync(join(flake, "flake.nix"), "{ }\n");
    writeFileSync(join(flake, "modules", "guest.nix"), "{ }\n");
    const events = await start([join(dir, "sites.yaml")], [flake]);

    expect(await eventsOf(events, () => writeFileSync(join(flake, "modules", "guest.nix"), "{ x = 1; }\n"))).toContain(join(flake, "modules", "guest.nix"));
    expect(await eventsOf(events, () => writeFileSync(join(flake, ".git", "index"), "x"))).toEqual([]);
    expect(await eventsOf(events, () => symlinkSync("/nix/store/x", join(flake, "result")))).toEqual([]);
  });

  it("moves the watch when the targets change", async () => {
    const dir = makeDir();
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    writeFileSync(join(dir, "a", "one.css"), "");
    writeFileSync(join(dir, "b", "two.css"), "");
    const events: string[] = [];
    const watcher = new FileWatcher({ onChange: (path) => events.push(path), onError: () => undefined });
    watchers.push(watcher);
    expect(await watcher.update({ files: [join(dir, "a", "one.css")], trees: [] })).toBe(true);
    expect(await watcher.update({ files: [join(dir, "a", "one.css")], trees: [] })).toBe(false);
    expect(await watcher.update({ files: [join(dir, "b", "two.css")], trees: [] })).toBe(true);
    expect(watcher.describe().files).toEqual({ [join(dir, "b")]: ["two.css"] });
    expect(await eventsOf(events, () => writeFileSync(join(dir, "a", "one.css"), "x"))).toEqual([]);
    expect(await eventsOf(events, () => writeFileSync(join(dir, "b", "two.css"), "x"))).toEqual([join(dir, "b", "two.css")]);
    rmSync(join(dir, "a"), { recursive: true });
  });
});
