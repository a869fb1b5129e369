// Temporary files of killed writers: removed when their writer is gone, kept
// while it lives; and the site archive's temporary file goes through run/.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/state/atomic.js";
import { removeLeftovers } from "../../src/state/leftovers.js";
import { ensureStateDirs, statePaths } from "../../src/state/paths.js";

const dir = mkdtempSync(join(tmpdir(), "ffvm-leftovers-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// A pid no process has: the largest possible pid on Linux is 4194304.
const gonePid = 4_194_305;

describe("removeLeftovers", () => {
  it("removes the files of gone writers in the state folders and in run/, and keeps a living writer's", async () => {
    const paths = statePaths(join(dir, "state"));
    await ensureStateDirs(paths);
    mkdirSync(paths.runDir("bank"), { recursive: true });
    const living = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((resolve) => living.once("spawn", resolve));
    try {
      const gone = [
        join(paths.vms, `.bank.json.${gonePid}.tmp`),
        join(paths.root, `.image.json.${gonePid}.tmp`),
        join(paths.run, `.bank.site.tar.${gonePid}.tmp`),
        join(paths.disks, "bank.qcow2.creating"),
        join(paths.root, `lock.${gonePid}.stale`),
      ];
      const kept = [join(paths.run, `.mail.site.tar.${living.pid}.tmp`), join(paths.vms, "bank.json"), join(paths.runDir("bank"), "qemu.log")];
      for (const file of [...gone, ...kept]) writeFileSync(file, "x");
      expect((await removeLeftovers(paths)).sort()).toEqual([...gone].sort());
      for (const file of gone) expect(existsSync(file), file).toBe(false);
      for (const file of kept) expect(existsSync(file), file).toBe(true);
    } finally {
      living.kill("SIGKILL");
    }
  });
});

describe("writeFileAtomic", () => {
  it("writes through the temporary file it is given and leaves none", async () => {
    const target = join(dir, "site", "site.tar");
    mkdirSync(join(dir, "site"), { recursive: true });
    const temporary = join(dir, `.site.site.tar.${process.pid}.tmp`);
    await writeFileAtomic(target, "archive", 0o600, temporary);
    expect(readFileSync(target, "utf8")).toBe("archive");
    expect(existsSync(temporary)).toBe(false);
    expect(readdirSync(join(dir, "site"))).toEqual(["site.tar"]);
  });
});
