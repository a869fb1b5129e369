// ffvm status: one row per site and per orphan.

import { hostname } from "node:os";
import { readDesiredState } from "../../config/index.js";
import { formatSize } from "../../config/size.js";
import { observe } from "../../observe/index.js";
import { chooseStateDir } from "../../reconcile.js";
import { statePaths } from "../../state/paths.js";
import { readSiteFailures } from "../../service/state.js";
import { collectStatus, statusFormatVersion, type SiteFailure, type SiteStatus } from "../../state/status.js";
import { exitCodes } from "../exit.js";
import { paint, type Color, type Output } from "../output.js";

export interface StatusCommandOptions {
  configFile: string;
  stateDir?: string;
  json: boolean;
  now?: Date;
  /** Host name compared with hosts: of each site. @default os.hostname() */
  hostname?: string;
}

const stateColors: Record<SiteStatus["state"], Color> = { running: "green", stopped: "dim", outdated: "yellow", orphan: "red", failing: "red", "other-host": "cyan" };

export const runStatus = async (options: StatusCommandOptions, output: Output): Promise<number> => {
  const { desired } = await readDesiredState(options.configFile);
  const stateDir = chooseStateDir(options.stateDir, desired);
  const paths = statePaths(stateDir);
  const actual = await observe(paths, desired.image);
  const host = options.hostname ?? hostname();
  const rows = collectStatus(desired, actual, await readSiteFailures(paths), host);
  if (options.json) {
    output.out(JSON.stringify({ formatVersion: statusFormatVersion, stateDir, hostname: host, sites: rows }, null, 2));
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
      formatDisk(row),
      row.startedAt === null ? "-" : formatUptime(now.getTime() - Date.parse(row.startedAt)),
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  table.forEach((cells, index) => {
    const padded = cells.map((cell, column) => cell.padEnd(widths[column]!));
    if (index > 0) padded[1] = paint(output, stateColors[rows[index - 1]!.state], padded[1]!);
    output.out(padded.join("  ").trimEnd());
  });
  for (const row of rows) {
    if (row.failure !== undefined) output.out(describeFailure(row.site, row.failure));
  }
  for (const row of rows) {
    if (row.state !== "other-host") continue;
    output.out(`${row.site}: other-host: runs on ${(row.hosts ?? []).join(", ")} only; ${row.pid === null ? "" : "the next reconcile stops its VM here, and "}its disk stays here until you remove it`);
  }
  return exitCodes.ok;
};

// One line per failing site under the table: what ffvm watch does next and the error.
const describeFailure = (site: string, failure: SiteFailure): string => {
  const crashes = `${failure.crashes} crash${failure.crashes === 1 ? "" : "es"}`;
  const next = failure.gaveUp
    ? `ffvm watch gave up after ${crashes}; fix the cause, then run 'ffvm open ${site}'`
    : `${crashes}; ffvm watch starts it again ${failure.retryAt === null ? "at its next reconcile" : `at ${new Date(failure.retryAt).toLocaleTimeString()}`}`;
  const error = failure.lastError.split("\n")[0] ?? "";
  return `${site}: failing: ${next}. Last error: ${error}`;
};

// Allocated/virtual size of a persistent disk, such as 1.2G/4G.
const formatDisk = (row: SiteStatus): string => {
  if (row.disposable) return "disposable";
  if (row.diskBytes === null) return row.ephemeral ? "ephemeral" : "-";
  return row.diskUsedBytes === null ? formatSize(row.diskBytes) : `${formatSize(row.diskUsedBytes)}/${formatSize(row.diskBytes)}`;
};

const formatUptime = (ms: number): string => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
};
