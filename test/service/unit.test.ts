import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { quoteEnvironmentAssignment, quoteExecArgument, renderUnit, userUnitDir } from "../../src/service/unit.js";
import { ffvmBin, runFfvm } from "../helpers/cli.js";

const unitLines = (text: string): string[] => text.split("\n");

describe("renderUnit", () => {
  const text = renderUnit({
    node: "/usr/bin/node",
    ffvm: "/opt/ffvm/dist/cli/bin.js",
    args: ["watch", "--config", "/home/alice/sites.yaml"],
    path: "/usr/bin:/bin",
  });

  it("starts with the graphical session", () => {
    const lines = unitLines(text);
    expect(lines).toContain("PartOf=graphical-session.target");
    expect(lines).toContain("After=graphical-session.target");
    expect(lines).toContain("WantedBy=graphical-session.target");
  });

  it("keeps VMs alive when the service stops", () => {
    expect(unitLines(text)).toContain("KillMode=process");
  });

  it("runs ffvm watch with absolute paths", () => {
    expect(unitLines(text)).toContain('ExecStart="/usr/bin/node" "/opt/ffvm/dist/cli/bin.js" "watch" "--config" "/home/alice/sites.yaml"');
  });

  it("passes PATH on", () => {
    expect(unitLines(text)).toContain('Environment="PATH=/usr/bin:/bin"');
  });

  it("reloads through SIGHUP and restarts on failure", () => {
    const lines = unitLines(text);
    expect(lines).toContain("ExecReload=kill -HUP $MAINPID");
    expect(lines).toContain("Restart=on-failure");
  });

  it("puts sections in order", () => {
    const sections = unitLines(text).filter((line) => line.startsWith("["));
    expect(sections).toEqual(["[Unit]", "[Service]", "[Install]"]);
  });
});

describe("quoteExecArgument", () => {
  it.each([
    ["/home/alice/sites.yaml", '"/home/alice/sites.yaml"'],
    ["/home/a b/sites.yaml", '"/home/a b/sites.yaml"'],
    ["100%", '"100%%"'],
    ["$HOME", '"$$HOME"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["*/5 * * * *", '"*/5 * * * *"'],
  ])("quotes %s", (word, quoted) => {
    expect(quoteExecArgument(word)).toBe(quoted);
  });
});

describe("quoteEnvironmentAssignment", () => {
  it("keeps $ and doubles %", () => {
    expect(quoteEnvironmentAssignment("PATH", "/a$b:/c%d")).toBe('"PATH=/a$b:/c%%d"');
  });
});

describe("userUnitDir", () => {
  it("honours XDG_CONFIG_HOME", () => {
    expect(userUnitDir({ XDG_CONFIG_HOME: "/x/config" })).toBe("/x/config/systemd/user");
  });

  it("falls back to ~/.config", () => {
    expect(userUnitDir({})).toBe(join(homedir(), ".config", "systemd", "user"));
  });
});

const systemdAnalyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });

describe.skipIf(systemdAnalyze.error !== undefined)("systemd-analyze verify", () => {
  it("accepts the unit with awkward paths", () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-unit-"));
    const file = join(dir, "ffvm.service");
    writeFileSync(
      file,
      renderUnit({ node: process.execPath, ffvm: ffvmBin, args: ["watch", "--config", `${dir}/my sites%h$x.yaml`, "--heal-schedule", "*/5 * * * *"], path: "/usr/bin:/bin" }),
    );
    const result = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8", env: { ...process.env, XDG_RUNTIME_DIR: dir } });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("ffvm service", () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-service-"));
    const config = join(dir, "sites.yaml");
    writeFileSync(config, "sites: {}\n");
    const env = { XDG_CONFIG_HOME: join(dir, "config") };
    const unitFile = join(dir, "config", "systemd", "user", "ffvm.service");
    return { dir, config, env, unitFile };
  };

  it("installs the unit under XDG_CONFIG_HOME", async () => {
    const { config, env, unitFile } = setup();
    const result = await runFfvm(["service", "install", "--config", config, "--heal-schedule", "*/10 * * * *", "--restart-outdated"], { env });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const text = readFileSync(unitFile, "utf8");
    expect(text).toContain(`ExecStart="${process.execPath}" "${ffvmBin}" "watch" "--config" "${config}" "--heal-schedule" "*/10 * * * *" "--restart-outdated"`);
    expect(result.stdout).toContain(`Wrote ${unitFile}`);
    expect(result.stdout).toContain("systemctl --user daemon-reload");
    expect(result.stdout).toContain("systemctl --user enable --now ffvm.service");
    expect(result.stdout).toContain("systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY");
  });

  it("replaces an installed unit", async () => {
    const { config, env } = setup();
    await runFfvm(["service", "install", "--config", config], { env });
    const again = await runFfvm(["service", "install", "--config", config], { env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("Replaced");
    expect(again.stdout).toContain("systemctl --user restart ffvm.service");
  });

  it("rejects an invalid heal schedule", async () => {
    const { config, env, unitFile } = setup();
    const result = await runFfvm(["service", "install", "--config", config, "--heal-schedule", "every minute"], { env });
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('--heal-schedule "every minute" is not a valid cron expression');
    expect(existsSync(unitFile)).toBe(false);
  });

  it("uninstalls the unit and its wants link", async () => {
    const { config, env, unitFile, dir } = setup();
    await runFfvm(["service", "install", "--config", config], { env });
    const wants = join(dir, "config", "systemd", "user", "graphical-session.target.wants");
    mkdirSync(wants);
    symlinkSync(unitFile, join(wants, "ffvm.service"));
    const result = await runFfvm(["service", "uninstall"], { env });
    expect(result.exitCode).toBe(0);
    expect(existsSync(unitFile)).toBe(false);
    expect(existsSync(join(wants, "ffvm.service"))).toBe(false);
    expect(result.stdout).toContain("systemctl --user stop ffvm.service");
  });

  it("leaves a unit it did not write", async () => {
    const { env, unitFile, dir } = setup();
    mkdirSync(join(dir, "config", "systemd", "user"), { recursive: true });
    writeFileSync(unitFile, "[Unit]\nDescription=someone else's\n");
    const result = await runFfvm(["service", "uninstall"], { env });
    expect(result.exitCode).toBe(1);
    expect(existsSync(unitFile)).toBe(true);
  });

  it("rejects an unknown action", async () => {
    const result = await runFfvm(["service", "start"]);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("ffvm service takes one action: install or uninstall");
  });
});
