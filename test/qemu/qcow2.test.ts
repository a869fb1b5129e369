import { mkdtempSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDisk, growDisk } from "../../src/qemu/img.js";
import { readQcow2HeaderSync } from "../../src/qemu/qcow2.js";

describe("qcow2 disks", () => {
  it("reads the size qemu-img wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-qcow2-"));
    const disk = join(dir, "a.qcow2");
    await createDisk(disk, 64 * 1024 ** 2);
    expect(readQcow2HeaderSync(disk).virtualSize).toBe(64 * 1024 ** 2);
    await growDisk(disk, 128 * 1024 ** 2);
    expect(readQcow2HeaderSync(disk).virtualSize).toBe(128 * 1024 ** 2);
  });

  it("never replaces an existing disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-qcow2-"));
    const disk = join(dir, "a.qcow2");
    await createDisk(disk, 64 * 1024 ** 2);
    await expect(createDisk(disk, 32 * 1024 ** 2)).rejects.toThrow(/EEXIST/);
    expect(readQcow2HeaderSync(disk).virtualSize).toBe(64 * 1024 ** 2);
    expect(readdirSync(dir)).toEqual(["a.qcow2"]);
  });

  it("rejects a file that is not qcow2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-qcow2-"));
    writeFileSync(join(dir, "raw.qcow2"), Buffer.alloc(64));
    expect(() => readQcow2HeaderSync(join(dir, "raw.qcow2"))).toThrow("is not a qcow2 image");
    expect(existsSync(join(dir, "raw.qcow2"))).toBe(true);
  });
});
