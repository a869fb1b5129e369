// ffvm handler install | uninstall: a desktop entry that registers ffvm open
// as a handler of http and https links. It never changes the default
// browser itself; it prints the xdg-settings and xdg-mime commands that do.

import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../state/atomic.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { ffvmExecutablePath } from "../executable.js";

export const desktopFileName = "ffvm.desktop";

// The first line of the entry; uninstall removes only a file that has it.
const marker = "# Written by ffvm handler install; ffvm handler uninstall removes it.";

export interface HandlerCommandOptions {
  configFile: string;
  stateDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Returns $XDG_DATA_HOME/applications, or ~/.local/share/applications when XDG_DATA_HOME is unset or empty. */
export const applicationsDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const base = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(homedir(), ".local", "share");
  return join(base, "applications");
};

// The Desktop Entry Specification (section "The Exec key") lists the
// characters that force an argument into double quotes.
const reservedCharacters = /[\s"'\\><~|&;$*?#()`]/;

/**
 * Quotes one argument for the Exec key: % doubled (it starts field codes),
 * and an argument with reserved characters put in double quotes with ", `, $
 * and \ escaped by a backslash. Every backslash is then doubled again,
 * because Exec is a string value whose own escape character is the backslash.
 */
export const quoteExecArgument = (argument: string): string => {
  if (/[\u0000-\u001f\u007f]/.test(argument)) throw new UsageError(`cannot put ${JSON.stringify(argument)} in a desktop entry: it contains a control character`);
  const percent = argument.replaceAll("%", "%%");
  const quoted = reservedCharacters.test(percent) || percent === "" ? `"${percent.replace(/["`$\\]/g, (char) => `\\${char}`)}"` : percent;
  return quoted.replaceAll("\\", "\\\\");
};

/** Renders the desktop entry; `command` is the program and its arguments before the URL. */
export const renderDesktopEntry = (command: readonly string[]): string =>
  [
    marker,
    "[Desktop Entry]",
    "Type=Application",
    // desktop-file-validate 0.26 (Debian 12) rejects 1.5, and nothing here is newer than 1.4.
    "Version=1.4",
    "Name=ffvm",
    "GenericName=Web Browser",
    "Comment=Open each link in the Firefox VM of its site, or in a disposable VM",
    `Exec=${[...command.map(quoteExecArgument), "%u"].join(" ")}`,
    "Terminal=false",
    // A menu entry would start ffvm open without a URL, which fails.
    "NoDisplay=true",
    "MimeType=x-scheme-handler/http;x-scheme-handler/https;",
    "Categories=Network;WebBrowser;",
    "",
  ].join("\n");

const ffvmBinPath = ffvmExecutablePath;

export const runHandler = async (args: readonly string[], options: HandlerCommandOptions, output: Output): Promise<number> => {
  const [action, ...extra] = args;
  if ((action !== "install" && action !== "uninstall") || extra.length > 0) {
    throw new UsageError("ffvm handler takes one action: install or uninstall, for example: ffvm handler install --config ~/dotfiles/sites.yaml");
  }
  const file = join(applicationsDir(options.env), desktopFileName);
  return action === "install" ? install(file, options, output) : uninstall(file, output);
};

const install = async (file: string, options: HandlerCommandOptions, output: Output): Promise<number> => {
  const command = [process.execPath, ffvmBinPath(), "open", "--config", options.configFile];
  if (options.stateDir !== undefined) command.push("--state-dir", resolve(options.stateDir));
  const replaced = existsSync(file);
  await mkdir(join(file, ".."), { recursive: true });
  await writeFileAtomic(file, renderDesktopEntry(command), 0o644);
  output.out(`${replaced ? "Replaced" : "Wrote"} ${file}: links open with ffvm open --config ${options.configFile}`);
  if (!existsSync(options.configFile)) output.err(`warning: ${options.configFile} does not exist yet; every link fails until it does`);
  output.out(
    [
      "",
      "Make ffvm the default browser for http and https links:",
      `  xdg-settings set default-web-browser ${desktopFileName}`,
      "or, where xdg-settings does not support the desktop:",
      `  xdg-mime default ${desktopFileName} x-scheme-handler/http x-scheme-handler/https`,
      "Some desktops read handlers from a cache; refresh it with:",
      `  update-desktop-database ${join(file, "..")}`,
    ].join("\n"),
  );
  return exitCodes.ok;
};

const uninstall = async (file: string, output: Output): Promise<number> => {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    output.out(`${file} does not exist; nothing to remove`);
    return exitCodes.ok;
  }
  if (!text.startsWith(marker)) {
    output.err(`ffvm: ${file} was not written by ffvm handler install, so it stays; remove it by hand if it is not needed`);
    return exitCodes.error;
  }
  await rm(file);
  output.out(`Removed ${file}.`);
  output.out(`If ffvm was the default browser, choose another, for example: xdg-settings set default-web-browser firefox.desktop`);
  return exitCodes.ok;
};
