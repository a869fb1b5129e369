import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { acquireLock, LockBusyError } from "../../src/state/lock.js";

const lockModule = fileURLToPath(new URL("../../dist/state/lock.js", import.meta.url));

// Starts another process that takes the lock and holds it until killed.
const holdLockInChild = async (file: string) => {
  const child = execa("node", ["--input-type=module", "-e", `import { acquireLock } from ${JSON.stringify(lockModule)}; await acquireLock(${JSON.stringify(file)}, { wait: false, command: "holder" }); console.log("held"); setInterval(() => {}, 1000);`], { reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    void child.then((result) => reject(new Error(`lock holder exited: ${result.stderr}`)));
  });
  // Wrapped: returning the child itself would make the caller await its exit.
  return { child, pid: child.pid ?? 0 };
};

describe("acquireLock", () => {
  it("fails at once when held and not waiting", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ffvm-lock-")), "lock");
    const { child: holder, pid } = await holdLockInChild(file);
    const failure = acquireLock(file, { wait: false, command: "second" });
    await expect(failure).rejects.toBeInstanceOf(LockBusyError);
    await expect(failure).rejects.toThrow(`state directory is locked by pid ${pid} (holder)`);
    holder.kill("SIGKILL");
    await holder;
  });

  it("recovers a lock of a killed holder", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ffvm-lock-")), "lock");
    const { child: holder } = await holdLockInChild(file);
    holder.kill("SIGKILL");
    await holder;
    const lock = await acquireLock(file, { wait: false, command: "second" });
    await lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it("waits for the holder to release", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ffvm-lock-")), "lock");
    const { child: holder, pid } = await holdLockInChild(file);
    const waits: number[] = [];
    const waiting = acquireLock(file, { wait: true, command: "second", pollMs: 50, onWait: (info) => waits.push(info.pid) });
    await sleep(300);
    holder.kill("SIGKILL");
    await holder;
    const lock = await waiting;
    expect(waits).toEqual([pid]);
    await lock.release();
  });

  it("takes over a garbled lock file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ffvm-lock-")), "lock");
    writeFileSync(file, "not json");
    const lock = await acquireLock(file, { wait: false, command: "second" });
    await lock.release();
  });

  it("lets one of many takers win", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ffvm-lock-")), "lock");
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(file, { wait: false, command: "racer" })));
    expect(attempts.filter((attempt) => attempt.status === "fulfilled")).toHaveLength(1);
  });
});
