// Temporary files of killed writers are removed when their writer is gone and
// kept while it lives. The site archive's temporary file goes through run/.

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

// A pid no process has: Linux keeps pids below 4194304 (PID_MAX_LIMIT on 64-bit systems).
const exitedPid = 4_194_305;

describe("removeLeftovers", () => {
  it("removes files of exited writers", async () => {
    const paths = statePaths(join(dir, "state"));
    await ensureStateDirs(paths);
    mkdirSync(paths.runDir("bank"), { recursive: true });
    const writer = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((resolve) => writer.once("spawn", resolve));
    try {
      const leftovers = [
        join(paths.vms, `.bank.json.${exitedPid}.tmp`),
        join(paths.root, `.image.json.${exitedPid}.tmp`),
        join(paths.run, `.bank.site.tar.${exitedPid}.tmp`),
        join(paths.disks, "bank.qcow2.creating"),
        join(paths.root, `lock.${exitedPid}.stale`),
      ];
      const others = [join(paths.run, `.mail.site.tar.${writer.pid}.tmp`), join(paths.vms, "bank.json"), join(paths.runDir("bank"), "qemu.log")];
      for (const file of [...leftovers, ...others]) writeFileSync(file, "x");
      expect((await removeLeftovers(paths)).sort()).toEqual([...leftovers].sort());
      for (const file of leftovers) expect(existsSync(file), file).toBe(false);
      for (const file of others) expect(existsSync(file), file).toBe(true);
    } finally {
      writer.kill("SIGKILL");
    }
  });
});

describe("writeFileAtomic", () => {
  it("uses the given temporary file", async () => {
    const target = join(dir, "site", "site.tar");
    mkdirSync(join(dir, "site"), { recursive: true });
    const temporary = join(dir, `.site.site.tar.${process.pid}.tmp`);
    await writeFileAtomic(target, "archive", 0o600, temporary);
    expect(readFileSync(target, "utf8")).toBe("archive");
    expect(existsSync(temporary)).toBe(false);
    expect(readdirSync(join(dir, "site"))).toEqual(["site.tar"]);
  });
});
