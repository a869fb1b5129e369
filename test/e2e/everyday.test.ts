// The everyday commands end to end against real QEMU (TCG) booting the test
// guest: open SITE|URL, status, logs, progress and colour in a real terminal
// (tmux), and hosts:. Four VM boots in all: alpha, beta twice, one disposable.

import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffvmBin, runFfvm } from "../helpers/cli.js";
import { readGuestReport, runnerPath, waitForGuestLine } from "../helpers/guest.js";

const bootTimeoutMs = 120_000;
const otherHost = `not-${hostname().split(".")[0]}`;

const sitesYaml = (runner: string): string =>
  [
    "defaults:",
    "  memory: 256",
    "  cpus: 1",
    "  disk: 64M",
    "sites:",
    "  alpha:",
    "    url: https://alpha.example/",
    "    pinned: true",
    '    match: ["*.alpha.example"]',
    "  beta:",
    "    url: https://beta.example/start",
    "  gamma:",
    "    url: https://gamma.example/",
    "    pinned: true",
    `    hosts: [${otherHost}]`,
    "image:",
    `  runner: ${JSON.stringify(runner)}`,
    "",
  ].join("\n");

const base64 = (text: string): string => Buffer.from(text).toString("base64").replace(/[+/]/g, "\\$&");

// Matches an SGR sequence that sets a foreground colour, as tmux capture-pane -e prints them.
const colorCode = /\u001b\[(?:[0-9;]*;)?3[0-7]m/;

interface Record {
  pid: number;
  settingsHash: string;
  disposable?: boolean;
}

describe("everyday commands with the test guest", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-everyday-"));
  const config = join(dir, "sites.yaml");
  const state = join(dir, "state");
  const tmuxSocket = `ffvm-test-${process.pid}`;
  let sessions = 0;
  const cli = (...args: string[]) => runFfvm([...args, "--config", config, "--state-dir", state]);
  const serialLog = (site: string) => join(state, "run", site, "serial.log");
  const record = (site: string): Record => JSON.parse(readFileSync(join(state, "vms", `${site}.json`), "utf8")) as Record;
  const waitForReady = (site: string) => waitForGuestLine(serialLog(site), /^ready$/, bootTimeoutMs);

  const tmux = (...args: string[]) => execa("tmux", ["-L", tmuxSocket, ...args], { reject: false });

  /**
   * Runs ffvm in a new tmux window of 160x50 and returns every screen seen
   * while it ran (captured with escape sequences) and the last one.
   */
  const runInTerminal = async (args: string[], color: boolean): Promise<{ frames: string[]; screen: string }> => {
    const session = `run${sessions++}`;
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
    const env = color ? "env -u NO_COLOR" : "env NO_COLOR=1";
    const command = `${env} FFVM_ALLOW_ROOT=1 ${quote(process.execPath)} ${quote(ffvmBin)} ${args.map(quote).join(" ")} --config ${quote(config)} --state-dir ${quote(state)}; echo "[exit $?]"; sleep 3600`;
    const started = await tmux("new-session", "-d", "-x", "160", "-y", "50", "-s", session, command);
    expect(started.stderr).toBe("");
    const frames: string[] = [];
    const deadline = Date.now() + bootTimeoutMs;
    for (;;) {
      const capture = await tmux("capture-pane", "-p", "-e", "-t", session);
      frames.push(capture.stdout);
      if (/\[exit \d+\]/.test(capture.stdout)) break;
      if (Date.now() > deadline) throw new Error(`ffvm ${args.join(" ")} did not finish in tmux; screen:\n${capture.stdout}`);
      await sleep(50);
    }
    await tmux("kill-session", "-t", session);
    return { frames, screen: frames.at(-1)! };
  };

  beforeAll(() => {
    writeFileSync(config, sitesYaml(runnerPath()));
    // gamma had a disk here before sites.yaml limited it to another host.
    mkdirSync(join(state, "disks"), { recursive: true, mode: 0o700 });
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(state, "disks", "gamma.qcow2"), "64M"]);
  });

  afterAll(async () => {
    await tmux("kill-server");
    for (const file of existsSync(join(state, "vms")) ? readdirSync(join(state, "vms")) : []) {
      if (file.startsWith("disposable-")) await cli("stop", file.replace(/\.json$/, ""));
    }
    writeFileSync(config, "sites: {}\nimage:\n  runner: /bin/true\n");
    await runFfvm(["reconcile", "--force", "--config", config, "--state-dir", state]);
  });

  it("plans nothing for a site of another host", async () => {
    const result = await cli("reconcile", "--dry-run", "--json");
    expect(result.exitCode).toBe(0);
    const plan = JSON.parse(result.stdout) as { actions: { site: string; kind: string }[]; elsewhere: { site: string; hosts: string[] }[] };
    expect(plan.actions.map((action) => `${action.site} ${action.kind}`)).toEqual(["alpha create-disk", "alpha start-vm", "beta create-disk"]);
    expect(plan.elsewhere).toEqual([{ site: "gamma", hosts: [otherHost], diskBytes: 64 * 1024 ** 2 }]);
  });

  it("renders the plan with colour only without NO_COLOR", async () => {
    const colored = await runInTerminal(["reconcile", "--dry-run"], true);
    expect(colored.screen).toMatch(colorCode);
    expect(colored.screen).toContain("Plan: 3 to add, 0 to change, 0 to remove.");
    expect(colored.screen).toContain(`gamma's 64M disk stays here; the site runs on ${otherHost} only`);
    expect(colored.screen).toContain("[exit 0]");

    const plain = await runInTerminal(["reconcile", "--dry-run"], false);
    expect(plain.screen).not.toMatch(colorCode);
    expect(plain.screen).toMatch(/\+ alpha\s+start-vm\s+PinnedNotRunning/);
  });

  it("shows progress in place while reconciling", async () => {
    const run = await runInTerminal(["reconcile"], true);
    expect(run.screen).toContain("[exit 0]");
    const spinner = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
    // While QEMU started, a live line showed the running action.
    const withoutColor = (frame: string) => frame.replace(/\u001b\[[0-9;]*m/g, "");
    expect(run.frames.some((frame) => new RegExp(`${spinner.source} alpha start-vm \\d+s`).test(withoutColor(frame)))).toBe(true);
    // At the end the live lines are gone and the results stay.
    const text = withoutColor(run.screen);
    expect(text).not.toMatch(spinner);
    expect(text).toMatch(/✓ alpha start-vm PinnedNotRunning done in/);
    expect(text).toMatch(/✓ beta create-disk DiskMissing done in/);
    expect(text).toContain("Applied: 3 done, 0 skipped, 0 failed.");
    expect(text.match(/alpha start-vm/g)).toHaveLength(1);
    expect(run.screen).toMatch(colorCode);
    await waitForReady("alpha");
    expect(existsSync(join(state, "disks", "gamma.qcow2"))).toBe(true);
    expect(existsSync(join(state, "vms", "gamma.json"))).toBe(false);
  });

  it("reports running, stopped and other-host sites", async () => {
    const result = await cli("status", "--json");
    expect(result.exitCode).toBe(0);
    const status = JSON.parse(result.stdout) as { formatVersion: number; hostname: string; sites: { site: string; state: string; pid: number | null; memoryMiB: number; rssMiB: number | null; diskBytes: number | null; diskUsedBytes: number | null; startedAt: string | null }[] };
    expect(status.formatVersion).toBe(1);
    expect(status.hostname).toBe(hostname());
    const bySite = new Map(status.sites.map((row) => [row.site, row]));
    expect([...bySite.keys()]).toEqual(["alpha", "beta", "gamma"]);

    const alpha = bySite.get("alpha")!;
    expect(alpha.state).toBe("running");
    expect(alpha.pid).toBe(record("alpha").pid);
    expect(alpha.memoryMiB).toBe(256);
    // QEMU's resident memory: more than nothing, and under guest memory plus QEMU's own.
    expect(alpha.rssMiB).toBeGreaterThan(10);
    expect(alpha.rssMiB).toBeLessThan(256 + 512);
    expect(Date.now() - Date.parse(alpha.startedAt!)).toBeLessThan(10 * 60_000);
    expect(alpha.diskBytes).toBe(64 * 1024 ** 2);
    expect(alpha.diskUsedBytes).toBeGreaterThan(0);

    const beta = bySite.get("beta")!;
    expect([beta.state, beta.pid, beta.rssMiB, beta.startedAt]).toEqual(["stopped", null, null, null]);
    expect(beta.diskBytes).toBe(64 * 1024 ** 2);
    expect(bySite.get("gamma")?.state).toBe("other-host");

    const table = await cli("status");
    expect(table.stdout).toMatch(/^SITE\s+STATE\s+PINNED\s+MEMORY\s+DISK\s+UPTIME$/m);
    expect(table.stdout).toMatch(/^alpha\s+running\s+yes\s+\d+\/256 MiB\s+\S+\/64M\s+\d+[sm]$/m);
    expect(table.stdout).toMatch(/^beta\s+stopped\s+no\s+-\/256 MiB\s+\S+\/64M\s+-$/m);
    expect(table.stdout).toMatch(/^gamma\s+other-host\s+yes/m);
    expect(table.stdout).toContain(`gamma: other-host: runs on ${otherHost} only; its disk stays here until you remove it`);
    expect(table.stdout).not.toContain("\u001b[");
    // Piped output has no colour even without NO_COLOR.
    const piped = await runFfvm(["status", "--config", config, "--state-dir", state], { env: { NO_COLOR: "" } });
    expect(piped.stdout).toMatch(/^alpha\s+running/m);
    expect(piped.stdout).not.toContain("\u001b[");
  });

  it("colours status in a terminal without NO_COLOR only", async () => {
    const colored = await runInTerminal(["status"], true);
    expect(colored.screen).toMatch(/\u001b\[32mrunning/);
    expect(colored.screen).toMatch(colorCode);
    const plain = await runInTerminal(["status"], false);
    expect(plain.screen).toMatch(/alpha\s+running/);
    expect(plain.screen).not.toMatch(colorCode);
  });

  it("sends a URL to a running VM", async () => {
    const url = "https://www.alpha.example/a path/?q=1,2&x=\"y\"#frag";
    const href = new URL(url).href;
    const pid = record("alpha").pid;
    const result = await cli("open", url);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`opened ${href} in alpha`);
    expect(result.exitCode).toBe(0);
    await waitForGuestLine(serialLog("alpha"), new RegExp(`^open-url-base64=${base64(href)}$`), 20_000);
    expect(record("alpha").pid).toBe(pid);
  });

  it("prints logs escaped", async () => {
    appendFileSync(join(state, "run", "alpha", "qemu.log"), "tampered \u001b[31mred\u001b]0;title\u0007 \u202eexe.txt\n");
    const result = await cli("logs", "alpha", "--lines", "3");
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toContain(`==> ${join(state, "run", "alpha", "qemu.log")} <==`);
    expect(lines).toContain(`==> ${join(state, "run", "alpha", "serial.log")} <==`);
    expect(lines).toContain("tampered \\x1b[31mred\\x1b]0;title\\x07 \\u{202e}exe.txt");
    expect(lines).toContain(`ffvm-guest: open-url-base64=${Buffer.from(new URL("https://www.alpha.example/a path/?q=1,2&x=\"y\"#frag").href).toString("base64")}`);
    expect(result.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it("rejects logs of a name that is no site name", async () => {
    const result = await cli("logs", "../../etc");
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('"../../etc" is not a site name');
    const missing = await cli("logs", "beta");
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no logs of beta");
  });

  it("starts stopped site on URL, follows logs", async () => {
    const follower = execa("node", [ffvmBin, "logs", "beta", "--follow", "--lines", "0", "--config", config, "--state-dir", state], {
      env: { NO_COLOR: "1" },
      reject: false,
      stdin: "ignore",
    });
    let followed = "";
    follower.stdout?.on("data", (chunk: Buffer) => (followed += chunk.toString()));
    const followedCount = (line: string) => followed.split("\n").filter((entry) => entry === line).length;
    const waitForFollowed = async (line: string, count: number) => {
      const deadline = Date.now() + bootTimeoutMs;
      while (followedCount(line) < count) {
        if (Date.now() > deadline) throw new Error(`ffvm logs --follow did not print ${line} ${count} times:\n${followed}`);
        await sleep(100);
      }
    };

    try {
      const url = "https://beta.example/deep/link?id=7#section";
      const result = await cli("open", url);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(`started beta on ${url}`);
      await waitForReady("beta");
      const report = await readGuestReport(serialLog("beta"));
      expect(report.url?.toString("utf8")).toBe(url);
      await waitForFollowed("ffvm-guest: ready", 1);

      // The start page did not change the site's settings, so nothing is outdated.
      const plan = await cli("reconcile", "--dry-run", "--detailed-exitcode");
      expect(plan.stdout).toContain("No changes");
      expect(plan.exitCode).toBe(0);

      // A restart rotates serial.log; the follower goes on with the new file.
      expect((await cli("stop", "beta")).exitCode).toBe(0);
      expect((await cli("open", "beta")).exitCode).toBe(0);
      await waitForReady("beta");
      await waitForFollowed("ffvm-guest: ready", 2);
      expect(followedCount("ffvm-guest: boot")).toBe(2);
      expect(Buffer.from((await readGuestReport(serialLog("beta"))).url ?? []).toString("utf8")).toBe("https://beta.example/start");
    } finally {
      follower.kill("SIGINT");
    }
    const ended = await follower;
    expect(ended.exitCode).toBe(0);
    expect(ended.stderr).toMatch(/serial\.log (was replaced by a new file|was removed)/);
    expect(followed).toContain("ffvm-guest: powerdown");
  });

  it("opens a URL of no site here in a disposable VM", async () => {
    const url = "https://gamma.example/page";
    const result = await cli("open", url);
    expect(result.stderr).toContain(`gamma.example belongs to gamma, which runs on ${otherHost} only; opening it in a disposable VM`);
    expect(result.stdout).toBe(`started disposable-1 on ${url}; its disk is thrown away when the VM stops`);
    expect(result.exitCode).toBe(0);
    await waitForReady("disposable-1");
    const report = await readGuestReport(serialLog("disposable-1"));
    expect(report.url?.toString("utf8")).toBe(url);
    expect(report.name).toBe("disposable-1");
    expect(record("disposable-1").disposable).toBe(true);
    // Only QEMU has the disk open; its name is gone already.
    expect(existsSync(join(state, "run", "disposable-1", "ephemeral.qcow2"))).toBe(false);

    // Reconcile neither prunes nor restarts it.
    const plan = await cli("reconcile", "--dry-run", "--detailed-exitcode");
    expect(plan.stdout).toContain("No changes");
    const status = JSON.parse((await cli("status", "--json")).stdout) as { sites: { site: string; state: string; disposable: boolean }[] };
    expect(status.sites.find((row) => row.site === "disposable-1")).toMatchObject({ state: "running", disposable: true });

    // However the VM ends, the next reconcile clears what is left.
    process.kill(record("disposable-1").pid, "SIGKILL");
    await sleep(500);
    const cleanup = await cli("reconcile");
    expect(cleanup.exitCode).toBe(0);
    expect(cleanup.stderr).toMatch(/disposable-1 stop-vm DisposableEnded/);
    expect(existsSync(join(state, "vms", "disposable-1.json"))).toBe(false);
    expect(existsSync(join(state, "run", "disposable-1"))).toBe(false);
  });
});
