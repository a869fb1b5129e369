// ffvm reconcile end to end: real sites.yaml, real QEMU (TCG) booting the
// test guest, real disks and records.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFfvm } from "../helpers/cli.js";
import { runnerPath } from "../helpers/guest.js";

const weirdUrl = "https://example.org/a path,with commas&x=\"quoted\" 'single' é☃?q=1,2";

const sitesYaml = (runner: string, overrides: { nixosMemory?: number; withDiscourse?: boolean; broken?: boolean } = {}): string => {
  const lines = [
    "defaults:",
    "  memory: 256",
    "  cpus: 1",
    "  disk: 64M",
    "sites:",
  ];
  if (overrides.withDiscourse !== false) lines.push("  discourse:", "    url: https://discourse.nixos.org", "    pinned: true");
  lines.push(
    "  nixos:",
    "    url: https://nixos.org",
    "    pinned: true",
    `    memory: ${overrides.nixosMemory ?? 320}`,
    "    cpus: 2",
    "  nixpkgs:",
    "    url: https://github.com/nixos/nixpkgs",
    "  weird:",
    `    url: ${JSON.stringify(weirdUrl)}`,
    "    pinned: true",
    "    memory: 288",
    "  temp:",
    "    url: https://example.com/",
    "    ephemeral: true",
  );
  if (overrides.broken === true) lines.push("  Bad_Name:", "    url: ftp://nope", "    memory: lots");
  lines.push("image:", `  runner: ${JSON.stringify(runner)}`);
  return `${lines.join("\n")}\n`;
};

interface Record {
  pid: number;
}

describe("ffvm reconcile with the test guest", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-e2e-"));
  const config = join(dir, "sites.yaml");
  const state = join(dir, "state");
  const cli = (...args: string[]) => runFfvm([...args, "--config", config, "--state-dir", state]);
  const serialLog = (site: string) => join(state, "run", site, "serial.log");
  const record = (site: string): Record => JSON.parse(readFileSync(join(state, "vms", `${site}.json`), "utf8")) as Record;
  const waitForReady = async (site: string): Promise<Map<string, string>> => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const report = parseReport(serialLog(site));
      if (report.has("ready")) return report;
      await sleep(250);
    }
    throw new Error(`${site} did not report ready; serial log:\n${existsSync(serialLog(site)) ? readFileSync(serialLog(site), "utf8") : "(none)"}`);
  };

  beforeAll(() => {
    writeFileSync(config, sitesYaml(runnerPath()));
  });

  afterAll(async () => {
    writeFileSync(config, "sites: {}\nimage:\n  runner: /bin/true\n");
    await runFfvm(["reconcile", "--force", "--config", config, "--state-dir", state]);
  });

  it("starts pinned sites with their url, memory and cpus", async () => {
    const result = await cli("reconcile");
    expect(result.stderr).not.toMatch(/failed/);
    expect(result.exitCode).toBe(0);

    const expected = { discourse: ["https://discourse.nixos.org", "256", "1"], nixos: ["https://nixos.org", "320", "2"], weird: [weirdUrl, "288", "1"] };
    for (const [site, [url, memory, cpus]] of Object.entries(expected)) {
      const report = await waitForReady(site);
      expect(Buffer.from(report.get("url-base64") ?? "", "base64").toString("utf8")).toBe(url);
      expect(report.get("memory-mib")).toBe(memory);
      expect(report.get("cpus")).toBe(cpus);
      expect(report.get("name")).toBe(site);
      expect(report.get("marker")).toBe("none");
    }
    expect(existsSync(join(state, "vms", "nixpkgs.json"))).toBe(false);
    expect(existsSync(join(state, "disks", "nixpkgs.qcow2"))).toBe(true);
    expect(existsSync(join(state, "disks", "temp.qcow2"))).toBe(false);
  });

  it("plans nothing on a second run", async () => {
    const result = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(result.stdout).toContain("No changes: the VMs match sites.yaml.");
    expect(result.exitCode).toBe(0);
  });

  it("starts an unpinned site on open", async () => {
    const result = await cli("open", "nixpkgs");
    expect(result.exitCode).toBe(0);
    const report = await waitForReady("nixpkgs");
    expect(Buffer.from(report.get("url-base64") ?? "", "base64").toString("utf8")).toBe("https://github.com/nixos/nixpkgs");
    const again = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(again.exitCode).toBe(0);
  });

  it("restarts only the site whose memory changed", async () => {
    const before = { discourse: record("discourse").pid, weird: record("weird").pid, nixpkgs: record("nixpkgs").pid, nixos: record("nixos").pid };
    writeFileSync(config, sitesYaml(runnerPath(), { nixosMemory: 384 }));

    const plan = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toMatch(/~ nixos\s+restart-vm\s+SettingsChanged\s+memory 320 → 384 MiB/);
    expect(plan.stdout).toContain("Plan: 0 to add, 1 to change, 0 to remove.");

    const result = await cli("reconcile");
    expect(result.exitCode).toBe(0);
    const report = await waitForReady("nixos");
    expect(report.get("memory-mib")).toBe("384");
    // The persistent disk kept the marker of the first boot.
    expect(report.get("marker")).toBe("boot-1");
    expect(record("nixos").pid).not.toBe(before.nixos);
    expect(record("discourse").pid).toBe(before.discourse);
    expect(record("weird").pid).toBe(before.weird);
    expect(record("nixpkgs").pid).toBe(before.nixpkgs);
  });

  it("gives an ephemeral site a new disk each start", async () => {
    expect((await cli("open", "temp")).exitCode).toBe(0);
    expect((await waitForReady("temp")).get("marker")).toBe("none");
    expect((await cli("stop", "temp")).exitCode).toBe(0);
    expect(existsSync(join(state, "run", "temp", "ephemeral.qcow2"))).toBe(false);
    expect(existsSync(join(state, "vms", "temp.json"))).toBe(false);
    expect((await cli("open", "temp")).exitCode).toBe(0);
    expect((await waitForReady("temp")).get("marker")).toBe("none");
    expect((await cli("stop", "temp")).exitCode).toBe(0);
  });

  it("rejects an invalid file and changes nothing", async () => {
    const vmsBefore = readdirSync(join(state, "vms")).sort();
    const disksBefore = readdirSync(join(state, "disks")).sort();
    const pids = vmsBefore.map((file) => record(file.replace(/\.json$/, "")).pid);
    writeFileSync(config, sitesYaml(runnerPath(), { nixosMemory: 384, withDiscourse: false, broken: true }));

    const result = await cli("reconcile");
    expect(result.exitCode).toBe(1);
    const lines = result.stderr.split("\n");
    expect(lines).toContain(`${config}:20:3: sites.Bad_Name: invalid site name "Bad_Name": it contains "_"; use 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit, such as "bad-name", because the name becomes a file name, a QEMU -name value and a hostname`);
    expect(lines).toContain(`${config}:21:10: sites.Bad_Name.url: "ftp://nope" has the scheme ftp:, but only http: and https: are allowed; write an http or https URL with a host, such as "https://example.org/"`);
    expect(result.stderr).toContain(`${config}:22:13: sites.Bad_Name.memory: "lots" is a string, not an integer`);
    expect(result.stderr).toContain("nothing was changed");

    expect(readdirSync(join(state, "vms")).sort()).toEqual(vmsBefore);
    expect(readdirSync(join(state, "disks")).sort()).toEqual(disksBefore);
    expect(readdirSync(join(state, "trash"))).toEqual([]);
    expect(vmsBefore.map((file) => record(file.replace(/\.json$/, "")).pid)).toEqual(pids);
  });

  it("stops a removed site and trashes its disk", async () => {
    const pid = record("discourse").pid;
    writeFileSync(config, sitesYaml(runnerPath(), { nixosMemory: 384, withDiscourse: false }));
    const result = await cli("reconcile");
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/discourse stop-vm SiteRemoved done/);
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(join(state, "disks", "discourse.qcow2"))).toBe(false);
    expect(readdirSync(join(state, "trash"))).toEqual([expect.stringMatching(/^discourse-\d{8}T\d{6}Z\.qcow2$/)]);
    expect(parseReport(serialLog("discourse")).has("powerdown")).toBe(true);

    const again = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(again.stdout).toContain("No changes");
    expect(again.exitCode).toBe(0);
  });
  it("restores a trashed disk when the site returns", async () => {
    writeFileSync(config, sitesYaml(runnerPath(), { nixosMemory: 384 }));
    const plan = await cli("reconcile", "--dry-run");
    expect(plan.stdout).toMatch(/\+ discourse\s+create-disk\s+DiskInTrash\s+restored from trash\/discourse-\d{8}T\d{6}Z\.qcow2/);

    const result = await cli("reconcile");
    expect(result.exitCode).toBe(0);
    expect(readdirSync(join(state, "trash"))).toEqual([]);
    expect(existsSync(join(state, "disks", "discourse.qcow2"))).toBe(true);
    // The guest finds the marker of its first boot: the disk came back, not an empty one.
    expect((await waitForReady("discourse")).get("marker")).toBe("boot-1");
  });
});

// A process that exited but was not reaped yet (state Z) counts as stopped.
const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "");
  } catch {
    return false;
  }
};

// Reads `ffvm-guest: key=value` lines of a serial log; a bare word maps to "".
const parseReport = (file: string): Map<string, string> => {
  const report = new Map<string, string>();
  if (!existsSync(file)) return report;
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^ffvm-guest: ([a-z0-9-]+)(?:=(.*))?$/.exec(line);
    if (match !== null) report.set(match[1]!, match[2] ?? "");
  }
  return report;
};
