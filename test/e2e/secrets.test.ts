// A WireGuard config reaches the guest only through the site archive (the
// fw_cfg file site.tar). Its private key never shows in the argument lists or
// environments of QEMU and passt, in ffvm's output and error messages, in
// records, or in any log on the host, also when a start fails.
//
// The test guest reports the files the guest scripts install, the WireGuard
// config among them, as base64 of the whole file on the serial console. That
// proves the key arrived; the checks below look for the key as text.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGuestReport, runnerPath, waitForGuestLine } from "../helpers/guest.js";
import {
  killProcessesMentioning,
  makeWorkspace,
  passtProcesses,
  qemuProcesses,
  walk,
  writeScript,
  writeSites,
  type RawResult,
  type Workspace,
} from "../helpers/vm-host.js";

const bootTimeoutMs = 60_000;
const privateKey = randomBytes(32).toString("base64");
const wireguardConf = [
  "[Interface]",
  `PrivateKey = ${privateKey}`,
  "Address = 10.8.0.2/32",
  "",
  "[Peer]",
  `PublicKey = ${randomBytes(32).toString("base64")}`,
  "Endpoint = 192.0.2.1:51820",
  "AllowedIPs = 0.0.0.0/0",
  "",
].join("\n");

// Every file in the state directory except the site archive, which carries
// the config to QEMU by design.
const stateFilesWithoutArchive = (ws: Workspace): string[] =>
  walk(ws.state)
    .filter((entry) => !entry.endsWith("/site.tar"))
    .map((entry) => join(ws.state, entry))
    .filter((file) => lstatSync(file).isFile());

const readProc = (pid: number, file: "cmdline" | "environ"): string => readFileSync(`/proc/${pid}/${file}`, "utf8");

describe("WireGuard private key", () => {
  let ws: Workspace;
  const outputs: RawResult[] = [];
  const cli = async (args: string[]): Promise<RawResult> => {
    const result = await ws.cli(args);
    outputs.push(result);
    return result;
  };

  beforeAll(() => {
    ws = makeWorkspace("ffvm-secrets-");
    writeFileSync(join(ws.dir, "wg-home.conf"), wireguardConf, { mode: 0o600 });
  });

  afterAll(async () => {
    await killProcessesMentioning(ws.dir);
    rmSync(ws.dir, { recursive: true, force: true });
  });

  const writeVpnSite = (runner: string): void =>
    writeSites(ws.config, [{ name: "bank", pinned: true, lines: ["vpn: home"] }], runner, ["vpns:", "  home:", `    wireguard: ${join(ws.dir, "wg-home.conf")}`]);

  it("stays out of processes, records and logs", async () => {
    writeVpnSite(runnerPath());
    const result = await cli(["reconcile"]);
    expect(result.exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("bank"), /^ready$/, bootTimeoutMs);

    // The key reached the guest, through the site archive.
    const report = parseGuestReport(readFileSync(ws.serialLog("bank"), "utf8"));
    expect(report.files.get("/etc/wireguard/wg0.conf")?.content.toString("utf8")).toBe(wireguardConf);
    expect(readFileSync(join(ws.runDir("bank"), "site.tar")).includes(privateKey)).toBe(true);

    const qemus = qemuProcesses(ws.state, "bank");
    const passts = passtProcesses(ws.state, "bank");
    expect(qemus).toHaveLength(1);
    expect(passts).toHaveLength(1);
    for (const { pid } of [...qemus, ...passts]) {
      expect(readProc(pid, "cmdline")).not.toContain(privateKey);
      expect(readProc(pid, "environ")).not.toContain(privateKey);
    }

    await cli(["status"]);
    await cli(["status", "--json"]);
    await cli(["reconcile", "--dry-run"]);
    await cli(["validate"]);

    const files = stateFilesWithoutArchive(ws);
    for (const expected of ["vms/bank.json", "run/bank/serial.log", "run/bank/qemu.log", "run/bank/passt.log"]) {
      expect(files).toContain(join(ws.state, expected));
    }
    for (const file of files) expect(readFileSync(file).includes(privateKey), file).toBe(false);
    for (const output of outputs) {
      expect(output.stdout).not.toContain(privateKey);
      expect(output.stderr).not.toContain(privateKey);
    }

    const stop = await cli(["stop", "bank"]);
    expect(stop.exitCode).toBe(0);
    expect(existsSync(join(ws.runDir("bank"), "site.tar"))).toBe(false);
  });

  it("stays out of a failed start's log and error", async () => {
    // A runner that prints its arguments and environment, as a crashing QEMU
    // might, and fails.
    const runner = writeScript(join(ws.dir, "leaky-runner"), 'env\necho "arguments: $*"\necho "leaky-runner: failing on purpose" >&2\nexit 1');
    writeVpnSite(runner);
    const result = await cli(["reconcile"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("bank start-vm PinnedNotRunning failed");
    expect(result.stderr).toContain("leaky-runner: failing on purpose");
    expect(result.stderr).toContain("arguments: -name ffvm-bank");
    expect(readFileSync(join(ws.runDir("bank"), "qemu.log"), "utf8")).toContain("NIX_DISK_IMAGE=");
    expect(result.stderr).not.toContain(privateKey);
    expect(result.stdout).not.toContain(privateKey);

    expect(existsSync(join(ws.runDir("bank"), "site.tar"))).toBe(false);
    for (const file of stateFilesWithoutArchive(ws)) expect(readFileSync(file).includes(privateKey), file).toBe(false);
  });

  it("stays out of config problems", async () => {
    writeVpnSite(runnerPath());
    chmodSync(join(ws.dir, "wg-home.conf"), 0o644);
    try {
      const result = await cli(["validate"]);
      expect(result.stdout + result.stderr).toContain("is readable by other users (mode 644)");
      expect(result.stdout).not.toContain(privateKey);
      expect(result.stderr).not.toContain(privateKey);
    } finally {
      chmodSync(join(ws.dir, "wg-home.conf"), 0o600);
    }
  });
});
