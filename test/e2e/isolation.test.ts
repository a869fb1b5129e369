// What a guest cannot reach: the host's loopback (passt --no-map-gw), a host
// folder, or a host file other than its own run files. QEMU runs in its
// seccomp sandbox, and the state it leaves is readable by its owner alone.
//
// ffvm runs in a network namespace made for the test ("host"), joined by a
// veth pair to a second namespace ("peer") that is the host's gateway and a
// remote server, so that no probe leaves this machine:
//
//   host  veth 10.200.0.2/24 fd00:200::2/64, default via 10.200.0.1 / fd00:200::1
//   peer  veth 10.200.0.1/24 fd00:200::1/64, lo 10.200.1.1/32
//
// passt gives the guest the host's address and gateway by DHCP. The guest
// probes TCP ports listed in the fw_cfg file opt/ffvm/test-probe (see
// test/guest/init), which a wrapper runner passes to QEMU.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runnerPath, waitForGuestLine } from "../helpers/guest.js";
import {
  killProcessesMentioning,
  makeWorkspace,
  passtProcesses,
  qemuProcesses,
  readArgv,
  walk,
  writeScript,
  writeSites,
  type Workspace,
} from "../helpers/vm-host.js";

const bootTimeoutMs = 60_000;
const suffix = randomBytes(3).toString("hex");
const hostNs = `ffvm-host-${suffix}`;
const peerNs = `ffvm-peer-${suffix}`;
// Ports of the loopback services the guest must not reach, and of the peer's.
const loopbackPort = 4100;
const peerPort = 4200;

const ip = (...args: string[]) => execa("ip", args);

const setUpNamespaces = async (): Promise<void> => {
  await ip("netns", "add", hostNs);
  await ip("netns", "add", peerNs);
  await ip("link", "add", `fh${suffix}`, "netns", hostNs, "type", "veth", "peer", "name", `fp${suffix}`, "netns", peerNs);
  for (const ns of [hostNs, peerNs]) await ip("-n", ns, "link", "set", "lo", "up");
  await ip("-n", hostNs, "addr", "add", "10.200.0.2/24", "dev", `fh${suffix}`);
  await ip("-n", hostNs, "addr", "add", "fd00:200::2/64", "dev", `fh${suffix}`, "nodad");
  await ip("-n", peerNs, "addr", "add", "10.200.0.1/24", "dev", `fp${suffix}`);
  await ip("-n", peerNs, "addr", "add", "fd00:200::1/64", "dev", `fp${suffix}`, "nodad");
  await ip("-n", peerNs, "addr", "add", "10.200.1.1/32", "dev", "lo");
  await ip("-n", hostNs, "link", "set", `fh${suffix}`, "up");
  await ip("-n", peerNs, "link", "set", `fp${suffix}`, "up");
  await ip("-n", hostNs, "route", "add", "default", "via", "10.200.0.1");
  await ip("-n", hostNs, "-6", "route", "add", "default", "via", "fd00:200::1");
};

// A TCP server in a namespace that accepts, closes at once, and prints one
// line per connection.
const serverScript = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
net.createServer((socket) => { console.log("connection " + socket.remoteAddress); socket.destroy(); })
  .listen(Number(port), host, () => console.log("listening"));
`;

interface TestServer {
  child: ChildProcess;
  connections: () => number;
}

const startServer = async (ns: string, host: string, port: number): Promise<TestServer> => {
  const child = spawn("ip", ["netns", "exec", ns, "node", "-e", serverScript, host, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes("listening")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server on ${host}:${port} in ${ns} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, connections: () => output.split("\n").filter((line) => line.startsWith("connection")).length };
};

// Reads "probe TARGET=ok|failed" report lines.
const readProbes = (serialLog: string): Map<string, string> => {
  const probes = new Map<string, string>();
  for (const line of readFileSync(serialLog, "utf8").split(/\r?\n/)) {
    const match = /^ffvm-guest: probe (\S+)=(ok|failed)$/.exec(line);
    if (match !== null) probes.set(match[1]!, match[2]!);
  }
  return probes;
};

// Arguments that give a guest host files, host directories or host sockets.
const forbiddenOptions = ["-virtfs", "-fsdev", "-hda", "-hdb", "-hdc", "-hdd", "-cdrom", "-fda", "-fdb", "-blockdev", "-mtdblock", "-sd", "-pflash", "-add-fd", "-net", "-nic", "-usbdevice", "-object"];

// Values of every `option` in an argument list.
const valuesOf = (argv: readonly string[], option: string): string[] =>
  argv.flatMap((arg, index) => (arg === option && index + 1 < argv.length ? [argv[index + 1]!] : []));

describe("guest isolation", () => {
  let ws: Workspace;
  const servers: TestServer[] = [];
  let pid = 0;

  beforeAll(async () => {
    await setUpNamespaces();
    ws = makeWorkspace("ffvm-isolation-", { netns: hostNs });
    servers.push(await startServer(hostNs, "127.0.0.1", loopbackPort));
    servers.push(await startServer(hostNs, "::1", loopbackPort));
    servers.push(await startServer(peerNs, "10.200.0.1", peerPort));
    servers.push(await startServer(peerNs, "10.200.1.1", peerPort));
    servers.push(await startServer(peerNs, "fd00:200::1", peerPort));

    const probeFile = join(ws.dir, "probes");
    writeFileSync(
      probeFile,
      [
        `gateway:${loopbackPort}`,
        `10.0.2.2:${loopbackPort}`,
        `[gateway6]:${loopbackPort}`,
        `gateway:${peerPort}`,
        `10.200.1.1:${peerPort}`,
        `[fd00:200::1]:${peerPort}`,
        "",
      ].join("\n"),
    );
    const runner = writeScript(join(ws.dir, "runner"), `exec ${runnerPath()} "$@" -fw_cfg name=opt/ffvm/test-probe,file=${probeFile}`);
    writeSites(ws.config, [{ name: "walled", pinned: true }], runner);
    const result = await ws.cli(["reconcile"]);
    if (result.exitCode !== 0) throw new Error(`reconcile failed: ${result.stderr}`);
    await waitForGuestLine(ws.serialLog("walled"), /^ready$/, bootTimeoutMs);
    pid = (JSON.parse(readFileSync(ws.record("walled"), "utf8")) as { pid: number }).pid;
  });

  afterAll(async () => {
    if (ws !== undefined) {
      await ws.cli(["stop", "walled"]);
      await killProcessesMentioning(ws.dir);
      rmSync(ws.dir, { recursive: true, force: true });
    }
    for (const server of servers) server.child.kill("SIGKILL");
    await ip("netns", "del", hostNs).catch(() => undefined);
    await ip("netns", "del", peerNs).catch(() => undefined);
  });

  it("gets its address by DHCP from passt", () => {
    const serial = readFileSync(ws.serialLog("walled"), "utf8");
    expect(serial).toMatch(/^ffvm-guest: dhcp=ok\r?$/m);
    expect(serial).toMatch(/^ffvm-guest: gateway=10\.200\.0\.1\r?$/m);
  });

  it("cannot reach the host's loopback", () => {
    const probes = readProbes(ws.serialLog("walled"));
    expect(probes.get(`gateway:${loopbackPort}`)).toBe("failed");
    expect(probes.get(`10.0.2.2:${loopbackPort}`)).toBe("failed");
    expect(probes.get(`[gateway6]:${loopbackPort}`)).toBe("failed");
    expect(servers[0]!.connections()).toBe(0);
    expect(servers[1]!.connections()).toBe(0);
  });

  it("reaches servers beyond the host", () => {
    const probes = readProbes(ws.serialLog("walled"));
    expect(probes.get(`gateway:${peerPort}`)).toBe("ok");
    expect(probes.get(`10.200.1.1:${peerPort}`)).toBe("ok");
    expect(probes.get(`[fd00:200::1]:${peerPort}`)).toBe("ok");
    expect(servers[2]!.connections()).toBe(1);
    expect(servers[3]!.connections()).toBe(1);
    expect(servers[4]!.connections()).toBe(1);
  });

  it("gets no host folder or other host file", () => {
    expect(qemuProcesses(ws.state, "walled").map((entry) => entry.pid)).toEqual([pid]);
    const argv = readArgv(pid)!;
    for (const option of forbiddenOptions) expect(argv, option).not.toContain(option);
    expect(argv.join(" ")).not.toMatch(/9p|virtio-fs|virtiofs|vhost-user|hostfwd|guestfwd|smb=|memory-backend-file/);

    const runDir = ws.runDir("walled");
    expect(valuesOf(argv, "-drive")).toEqual([`file=${ws.disk("walled")},if=virtio,format=qcow2`]);
    expect(valuesOf(argv, "-fw_cfg")).toEqual([`name=opt/ffvm/site,file=${runDir}/site.tar`, `name=opt/ffvm/test-probe,file=${ws.dir}/probes`]);
    expect(valuesOf(argv, "-netdev")).toEqual([`stream,id=ffvm-net,server=off,addr.type=unix,addr.path=${runDir}/passt.sock`]);
    expect(valuesOf(argv, "-chardev")).toEqual([`socket,id=ffvm-open,path=${runDir}/open.sock,server=on,wait=off`]);
    expect(valuesOf(argv, "-device")).toEqual([
      "virtio-net-pci,netdev=ffvm-net",
      "virtio-serial-pci,id=ffvm-serial",
      "virtserialport,bus=ffvm-serial.0,chardev=ffvm-open,name=org.ffvm.open",
    ]);

    // Open files: the disk, the logs and the pidfile; no directory.
    const opened = readdirSync(`/proc/${pid}/fd`)
      .map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`))
      .filter((target) => target.startsWith("/"));
    const allowed = new Set(["/dev/null", ws.disk("walled"), `${runDir}/qemu.log`, `${runDir}/serial.log`, `${runDir}/qemu.pid`]);
    expect(opened.filter((target) => !allowed.has(target))).toEqual([]);
  });

  it("runs QEMU in its seccomp sandbox", () => {
    const argv = readArgv(pid)!;
    expect(valuesOf(argv, "-sandbox")).toEqual(["on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"]);
    // Seccomp 2 is filter mode; the guest reached "ready", so QEMU accepted it.
    expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^Seccomp:\s+2$/m);
  });

  it("leaves state readable by its owner only", () => {
    expect(lstatSync(ws.state).mode & 0o777).toBe(0o700);
    const entries = walk(ws.state);
    for (const expected of ["vms/walled.json", "disks/walled.qcow2", "run/walled/site.tar", "run/walled/serial.log", "run/walled/qemu.log"]) {
      expect(entries).toContain(expected);
    }
    for (const entry of entries) {
      const stats = lstatSync(join(ws.state, entry));
      if (stats.isDirectory()) expect(stats.mode & 0o777, entry).toBe(0o700);
      else expect(stats.mode & 0o077, entry).toBe(0);
    }
    expect(passtProcesses(ws.state, "walled")).toHaveLength(1);
  });

  it("keeps a stopped VM's logs and trashed disk private", async () => {
    writeSites(ws.config, [], runnerPath());
    const result = await ws.cli(["reconcile", "--force"]);
    expect(result.exitCode).toBe(0);
    const entries = walk(ws.state);
    expect(entries).toContain("run/walled/serial.log");
    expect(entries.filter((entry) => entry.startsWith("trash/walled-"))).toHaveLength(1);
    for (const entry of entries) {
      const stats = lstatSync(join(ws.state, entry));
      if (stats.isDirectory()) expect(stats.mode & 0o777, entry).toBe(0o700);
      else expect(stats.mode & 0o077, entry).toBe(0);
    }
  });
});

describe("QEMU as root", () => {
  it.skipIf(process.geteuid?.() !== 0)("is refused without FFVM_ALLOW_ROOT", async () => {
    const ws = makeWorkspace("ffvm-root-");
    try {
      writeSites(ws.config, [{ name: "rooted", pinned: true }]);
      const result = await ws.cli(["reconcile"], { FFVM_ALLOW_ROOT: undefined });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("rooted start-vm PinnedNotRunning failed");
      expect(result.stderr).toContain("refusing to run QEMU as root, because a guest escape would own the host");
      expect(result.stderr).toContain("set FFVM_ALLOW_ROOT=1 to accept the risk");
      expect(qemuProcesses(ws.state, "rooted")).toEqual([]);
      expect(passtProcesses(ws.state, "rooted")).toEqual([]);
      expect(existsSync(ws.record("rooted"))).toBe(false);
      expect(existsSync(ws.runDir("rooted"))).toBe(false);
    } finally {
      await killProcessesMentioning(ws.dir);
      rmSync(ws.dir, { recursive: true, force: true });
    }
  });
});
