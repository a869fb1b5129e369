// Names of trashed disks: <site>-<UTC time as 20261204T153000Z>.qcow2.

import type { TrashEntry } from "./types.js";

const trashName = /^([a-z0-9-]+)-(\d{8}T\d{6}Z)\.qcow2$/;

/** Returns the trash file name for a site's disk moved at `time`. */
export const trashFileName = (site: string, time: Date): string => {
  const stamp = time.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return `${site}-${stamp}.qcow2`;
};

/** Parses a trash file name; undefined for files ffvm did not name. */
export const parseTrashFileName = (dir: string, name: string): TrashEntry | undefined => {
  const match = trashName.exec(name);
  if (match === null) return undefined;
  const stamp = match[2]!;
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
  const trashedAt = new Date(iso);
  if (Number.isNaN(trashedAt.getTime())) return undefined;
  return { file: `${dir}/${name}`, site: match[1]!, trashedAt };
};
