// The shared image: built with real nix (offline) from a fixture flake with
// the real flake's output attribute, once for any number of sites, and only
// when its files change.

import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFfvm } from "../helpers/cli.js";
import { runnerPath } from "../helpers/guest.js";

const fixture = fileURLToPath(new URL("../fixtures/image-flake", import.meta.url));

// nix as on the CI machine: no daemon, no binary cache, no build users.
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nbuild-users-group =\nwarn-dirty = false";

describe("image build with the fixture flake", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-image-"));
  const flake = join(dir, "flake");
  const config = join(dir, "sites.yaml");
  const state = join(dir, "state");
  const countingBin = join(dir, "bin");
  const nixLog = join(dir, "nix-calls.log");
  const env = { NIX_CONFIG: nixConfig, PATH: `${countingBin}:${process.env.PATH ?? ""}` };
  const cli = (...args: string[]) => runFfvm([...args, "--config", config, "--state-dir", state], { env, timeoutMs: 300_000 });
  const nixCalls = (): string[] => (existsSync(nixLog) ? readFileSync(nixLog, "utf8").split("\n").filter((line) => line !== "") : []);
  const guestModule = join(flake, "guest.nix");
  const imageRecord = () => JSON.parse(readFileSync(join(state, "image.json"), "utf8")) as { outPath: string; fingerprint: string };
  const vmRecord = () => JSON.parse(readFileSync(join(state, "vms", "site-00.json"), "utf8")) as { pid: number; imageId: string };

  beforeAll(async () => {
    cpSync(fixture, flake, { recursive: true });
    writeFileSync(guestModule, readFileSync(guestModule, "utf8").replace("@GUEST_RUNNER@", runnerPath()));

    // Every nix call goes through a wrapper that logs it, so the test counts
    // nix processes without tracing.
    const realNix = (await execa("sh", ["-c", "command -v nix"])).stdout.trim();
    mkdirSync(countingBin);
    writeFileSync(join(countingBin, "nix"), `#!/bin/sh\necho "nix $*" >> ${JSON.stringify(nixLog)}\nexec ${JSON.stringify(realNix)} "$@"\n`);
    chmodSync(join(countingBin, "nix"), 0o755);

    // 20 sites share the image; one is pinned so a VM runs from it.
    const sites = Array.from({ length: 20 }, (_, index) => {
      const name = `site-${String(index).padStart(2, "0")}`;
      return `  ${name}:\n    url: https://${name}.example/\n${index === 0 ? "    pinned: true\n" : ""}`;
    });
    writeFileSync(config, `defaults:\n  memory: 256\n  cpus: 1\n  disk: 64M\nsites:\n${sites.join("")}image:\n  flake: ./flake\n`);
  });

  afterAll(async () => {
    writeFileSync(config, "sites: {}\nimage:\n  flake: ./flake\n");
    await runFfvm(["stop", "site-00", "--config", config, "--state-dir", state], { env });
  });

  it("plans one build for twenty sites", async () => {
    const result = await cli("reconcile", "--dry-run");
    expect(result.stdout.match(/build-image/g)).toHaveLength(1);
    expect(result.stdout).toMatch(/\+ \(image\)\s+build-image\s+ImageNeverBuilt/);
    expect(nixCalls()).toEqual([]);
  });

  it("builds once on the first reconcile", async () => {
    const result = await cli("reconcile");
    expect(result.stderr).not.toMatch(/failed/);
    expect(result.exitCode).toBe(0);
    expect(nixCalls()).toHaveLength(1);
    expect(nixCalls()[0]).toMatch(/^nix --extra-experimental-features nix-command flakes build path:.*\/flake#vm --out-link .*\/image-result/);

    const record = imageRecord();
    expect(readlinkSync(join(state, "image-result"))).toBe(record.outPath);
    expect(existsSync(join(record.outPath, "bin", "run-ffvm-vm"))).toBe(true);
    expect(vmRecord().imageId).toBe(record.outPath);
  });

  it("runs no nix on a second reconcile", async () => {
    const result = await cli("reconcile", "--detailed-exitcode");
    expect(result.exitCode).toBe(0);
    expect(nixCalls()).toHaveLength(1);
  });

  it("keeps the image through garbage collection", async () => {
    const { outPath } = imageRecord();
    await execa("nix-collect-garbage", [], { env: { NIX_CONFIG: nixConfig } });
    expect(existsSync(outPath)).toBe(true);
    const result = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(result.exitCode).toBe(0);
  });

  it("rebuilds once when one module changes", async () => {
    const before = imageRecord();
    const pidBefore = vmRecord().pid;
    writeFileSync(guestModule, readFileSync(guestModule, "utf8").replace('revision = "1"', 'revision = "2"'));

    const plan = await cli("reconcile", "--dry-run");
    expect(plan.stdout).toMatch(/\+ \(image\)\s+build-image\s+ImageChanged/);

    const result = await cli("reconcile");
    expect(result.exitCode).toBe(0);
    expect(nixCalls()).toHaveLength(2);
    const after = imageRecord();
    expect(after.outPath).not.toBe(before.outPath);
    // The pinned VM ran the old image, so the second round restarted it.
    expect(result.stderr).toMatch(/site-00 restart-vm ImageOutdated done/);
    expect(vmRecord().imageId).toBe(after.outPath);
    expect(vmRecord().pid).not.toBe(pidBefore);
  });

  it("reports a broken module and stops no VM", async () => {
    const before = imageRecord();
    const pid = vmRecord().pid;
    writeFileSync(guestModule, "{ hostName = \"ffvm\"; revision = ; }\n");

    const result = await cli("reconcile");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/\(image\) build-image ImageChanged failed/);
    expect(result.stderr).toMatch(/nix build path:.*#vm failed with exit code 1/);
    expect(result.stderr).toMatch(/error: syntax error/);
    expect(nixCalls()).toHaveLength(3);

    await sleep(500);
    expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) [RS] /);
    expect(vmRecord().pid).toBe(pid);
    expect(imageRecord()).toEqual(before);
    expect(readlinkSync(join(state, "image-result"))).toBe(before.outPath);
  });
});
