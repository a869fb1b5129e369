// Sizes written as in qemu-img: a number and a unit of K, M, G or T, powers of 1024.

const unitBytes: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * Smallest disk accepted. A smaller value is nearly always a unit mistake,
 * such as 64K for 64M; the end-to-end tests boot the test guest from 64M.
 */
export const minDiskBytes = 64 * 1024 ** 2;

/**
 * Largest disk accepted. qcow2 allocates space only as the guest writes, so
 * the bound costs nothing; it catches unit mistakes such as 4000T for 4000G.
 */
export const maxDiskBytes = 64 * 1024 ** 4;

/** Parses "4G" or "1.5G" into bytes, rounded up to whole MiB; undefined when invalid. */
export const parseSize = (text: string): number | undefined => {
  const match = /^([0-9]+(?:\.[0-9]+)?)([KMGT])$/.exec(text);
  if (match === null) return undefined;
  const bytes = Number(match[1]) * unitBytes[match[2]!]!;
  if (!Number.isFinite(bytes) || bytes <= 0) return undefined;
  const mib = 1024 ** 2;
  return Math.ceil(bytes / mib) * mib;
};

/**
 * Returns why text is not a disk size ffvm accepts, or undefined when it is
 * one. The rules match the size pattern of schemas/sites.schema.json, plus
 * the bounds minDiskBytes and maxDiskBytes.
 */
export const describeSizeProblem = (text: string): { reason: string; fix: string } | undefined => {
  const example = "write a number and a unit of K, M, G or T (powers of 1024), such as 4G or 512M";
  const match = /^\s*(-?)([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (match === null) return { reason: "is not a size", fix: example };
  const [, sign, digits, written] = match as unknown as [string, string, string, string];
  const unit = written.toUpperCase().replace(/I?B$/, "");
  if (sign === "-") return { reason: "is negative", fix: example };
  if (Number(digits) === 0) return { reason: "is zero", fix: example };
  if (written === "") return { reason: "has no unit", fix: `write ${digits}G for ${digits} GiB, or ${digits}M for ${digits} MiB` };
  if (unitBytes[unit] === undefined) return { reason: `has the unknown unit ${JSON.stringify(written)}`, fix: example };
  const canonical = `${digits}${unit}`;
  if (written !== unit) return { reason: `has the unit ${JSON.stringify(written)}`, fix: `write ${canonical}: the units are K, M, G and T, powers of 1024` };
  const bytes = Number(digits) * unitBytes[unit]!;
  if (bytes < minDiskBytes) return { reason: `is less than the minimum of ${formatSize(minDiskBytes)}`, fix: "check the unit, for example 512M rather than 512K" };
  if (bytes > maxDiskBytes) return { reason: `is more than the maximum of ${formatSize(maxDiskBytes)}`, fix: "check the unit, for example 4G rather than 4T" };
  if (text !== canonical) return { reason: "contains spaces", fix: `write ${canonical}` };
  if (digits.startsWith("0")) return { reason: "starts with 0", fix: `write it in a smaller unit, such as ${formatSize(bytes)}` };
  if (!/^[0-9]{1,7}(\.|$)/.test(digits)) return { reason: "has more than 7 digits before the point", fix: `write it in a larger unit, such as ${formatSize(bytes)}` };
  return undefined;
};

/** Formats bytes for people: the largest unit that keeps one decimal or fewer. */
export const formatSize = (bytes: number): string => {
  for (const unit of ["T", "G", "M", "K"]) {
    const size = bytes / unitBytes[unit]!;
    if (size >= 1) return `${Number.isInteger(size) ? size : size.toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
};
