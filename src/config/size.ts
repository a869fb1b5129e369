// Sizes written as in qemu-img: a number and a unit of K, M, G or T, powers of 1024.

const unitBytes: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses "4G" or "1.5G" into bytes, rounded up to whole MiB; undefined when invalid. */
export const parseSize = (text: string): number | undefined => {
  const match = /^([0-9]+(?:\.[0-9]+)?)([KMGT])$/.exec(text);
  if (match === null) return undefined;
  const bytes = Number(match[1]) * unitBytes[match[2]!]!;
  if (!Number.isFinite(bytes) || bytes <= 0) return undefined;
  const mib = 1024 ** 2;
  return Math.ceil(bytes / mib) * mib;
};

/** Formats bytes for people: the largest unit that keeps one decimal or fewer. */
export const formatSize = (bytes: number): string => {
  for (const unit of ["T", "G", "M", "K"]) {
    const size = bytes / unitBytes[unit]!;
    if (size >= 1) return `${Number.isInteger(size) ? size : size.toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
};
