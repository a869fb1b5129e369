// ffvm handler install | uninstall: the desktop entry for http and https links.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { quoteExecArgument } from "../../src/cli/commands/handler.js";
import { ffvmBin, runFfvm } from "../helpers/cli.js";

describe("quoteExecArgument", () => {
  it.each([
    ["/usr/bin/node", "/usr/bin/node"],
    ["/home/me/my sites.yaml", '"/home/me/my sites.yaml"'],
    ["/data/100%/sites.yaml", "/data/100%%/sites.yaml"],
    ['/a"b', '"/a\\\\"b"'],
    ["/a$b`c", '"/a\\\\$b\\\\`c"'],
    ["/a\\b", '"/a\\\\\\\\b"'],
    ["~/sites.yaml", '"~/sites.yaml"'],
    ["", '""'],
  ])("quotes %j as %s", (argument, expected) => {
    expect(quoteExecArgument(argument)).toBe(expected);
  });

  it("rejects control characters", () => {
    expect(() => quoteExecArgument("/a\nb")).toThrow(/control character/);
  });
});

describe("ffvm handler", () => {
  const setUp = (configName = "sites.yaml") => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-handler-"));
    const dataHome = join(dir, "data home");
    const config = join(dir, configName);
    writeFileSync(config, "sites:\n  bank:\n    url: https://bank.example\n");
    const env = { XDG_DATA_HOME: dataHome };
    const file = join(dataHome, "applications", "ffvm.desktop");
    return { dir, config, env, file };
  };

  it("writes an entry that desktop-file-validate accepts", async () => {
    const { config, env, file } = setUp("my sites.yaml");
    const result = await runFfvm(["handler", "install", "--config", config], { env });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Wrote ${file}`);
    expect(result.stdout).toContain("xdg-settings set default-web-browser ffvm.desktop");
    expect(result.stdout).toContain("xdg-mime default ffvm.desktop x-scheme-handler/http x-scheme-handler/https");

    const entry = readFileSync(file, "utf8");
    expect(entry).toContain(`Exec=${process.execPath} ${ffvmBin} open --config "${config}" %u\n`);
    expect(entry).toContain("MimeType=x-scheme-handler/http;x-scheme-handler/https;\n");
    const validation = await execa("desktop-file-validate", [file], { reject: false });
    expect(validation.stdout + validation.stderr).toBe("");
    expect(validation.exitCode).toBe(0);
  });

  it("writes --state-dir into the entry", async () => {
    const { dir, config, env, file } = setUp();
    const state = join(dir, "state");
    expect((await runFfvm(["handler", "install", "--config", config, "--state-dir", state], { env })).exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toContain(`open --config ${config} --state-dir ${state} %u`);
  });

  it("uses ~/.local/share without XDG_DATA_HOME", async () => {
    const { dir, config } = setUp();
    const result = await runFfvm(["handler", "install", "--config", config], { env: { HOME: dir, XDG_DATA_HOME: "" } });
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(dir, ".local", "share", "applications", "ffvm.desktop"))).toBe(true);
  });

  it("removes its entry on uninstall", async () => {
    const { config, env, file } = setUp();
    await runFfvm(["handler", "install", "--config", config], { env });
    const result = await runFfvm(["handler", "uninstall"], { env });
    expect(result.exitCode).toBe(0);
    expect(existsSync(file)).toBe(false);
    const again = await runFfvm(["handler", "uninstall"], { env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("does not exist; nothing to remove");
  });

  it("leaves an entry it did not write", async () => {
    const { env, file } = setUp();
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, "[Desktop Entry]\nType=Application\nName=other\nExec=other %u\n");
    const result = await runFfvm(["handler", "uninstall"], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("was not written by ffvm handler install");
    expect(existsSync(file)).toBe(true);
  });

  it("rejects an unknown action", async () => {
    const result = await runFfvm(["handler", "enable"]);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("ffvm handler takes one action: install or uninstall");
  });
});
