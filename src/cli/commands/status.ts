// ffvm status: one row per site and per orphan.

import { readDesiredState } from "../../config/index.js";
import { formatSize } from "../../config/size.js";
import { observe } from "../../observe/index.js";
import { chooseStateDir } from "../../reconcile.js";
import { statePaths } from "../../state/paths.js";
import { collectStatus, statusFormatVersion, type SiteStatus } from "../../state/status.js";
import { exitCodes } from "../exit.js";
import { paint, type Color, type Output } from "../output.js";

export interface StatusCommandOptions {
  configFile: string;
  stateDir?: string;
  json: boolean;
  now?: Date;
}

const stateColors: Record<SiteStatus["state"], Color> = { running: "green", stopped: "dim", outdated: "yellow", orphan: "red" };

export const runStatus = async (options: StatusCommandOptions, output: Output): Promise<number> => {
  const { desired } = await readDesiredState(options.configFile);
  const stateDir = chooseStateDir(options.stateDir, desired);
  const actual = await observe(statePaths(stateDir), desired.image);
  const rows = collectStatus(desired, actual);
  if (options.json) {
    output.out(JSON.stringify({ formatVersion: statusFormatVersion, stateDir, sites: rows }, null, 2));
    return exitCodes.ok;
  }
  const now = options.now ?? new Date();
  const table = [
    ["SITE", "STATE", "PINNED", "MEMORY", "DISK", "UPTIME"],
    ...rows.map((row) => [
      row.site,
      row.state,
      row.pinned ? "yes" : "no",
      row.memoryMiB === null ? "-" : `${row.rssMiB ?? "-"}/${row.memoryMiB} MiB`,
      row.diskBytes === null ? (row.ephemeral ? "ephemeral" : "-") : formatSize(row.diskBytes),
      row.startedAt === null ? "-" : formatUptime(now.getTime() - Date.parse(row.startedAt)),
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  table.forEach((cells, index) => {
    const padded = cells.map((cell, column) => cell.padEnd(widths[column]!));
    if (index > 0) padded[1] = paint(output, stateColors[rows[index - 1]!.state], padded[1]!);
    output.out(padded.join("  ").trimEnd());
  });
  return exitCodes.ok;
};

const formatUptime = (ms: number): string => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
};
