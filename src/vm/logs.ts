// Reading a VM's logs (run/<site>/qemu.log and serial.log) for a terminal:
// the last lines of a file, and following files as they grow, across the
// rotation that each VM start does (serial.log becomes serial.log.1 and a
// new serial.log appears).

import { open, stat, type FileHandle } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { escapeControl } from "../util/command-error.js";

// Characters that reorder or hide text without being control characters:
// bidirectional overrides and isolates, marks, and the Unicode line separators.
const invisibleFormatting = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes a log line for a terminal: control characters (escape sequences
 * among them) and bidirectional formatting become visible escapes, so the
 * guest cannot move the cursor, retitle the window or disguise text.
 */
export const escapeLogLine = (line: string): string =>
  escapeControl(line.replace(/\r$/, "")).replace(invisibleFormatting, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);

const chunkBytes = 64 * 1024;

/**
 * Returns the last `count` lines of the first `end` bytes of a file, read
 * backwards in chunks so a large log is not read whole. A last line without
 * a newline counts as a line.
 */
export const readLastLines = async (handle: FileHandle, end: number, count: number): Promise<string[]> => {
  if (count === 0 || end === 0) return [];
  const chunks: Buffer[] = [];
  let newlines = 0;
  let position = end;
  // A final newline ends the last line, so it needs one newline more.
  const lastByte = Buffer.alloc(1);
  await handle.read(lastByte, 0, 1, end - 1);
  const needed = count + (lastByte[0] === 0x0a ? 1 : 0);
  while (position > 0 && newlines < needed) {
    const size = Math.min(chunkBytes, position);
    position -= size;
    const chunk = Buffer.alloc(size);
    await handle.read(chunk, 0, size, position);
    chunks.unshift(chunk);
    for (const byte of chunk) if (byte === 0x0a) newlines++;
  }
  const lines = Buffer.concat(chunks).toString("utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-count);
};

/** An event of followFiles: new lines of a file, or a notice about it such as a rotation. */
export type FollowEvent = { kind: "lines"; file: string; lines: string[] } | { kind: "notice"; file: string; message: string };

interface Tracked {
  file: string;
  handle?: FileHandle;
  inode?: number;
  /** Offset of the next byte to read. */
  position: number;
  /** Bytes after the last newline, waiting for the rest of their line. */
  partial: Buffer;
}

export interface FollowOptions {
  /** Lines printed from the end of each file before following; 0 prints none. */
  initialLines: number;
  /** How often the files are checked, in milliseconds. @default 250 */
  intervalMs?: number;
  signal: AbortSignal;
  onEvent: (event: FollowEvent) => void;
}

/**
 * Prints the last lines of each file, then new lines as they are written,
 * until the signal aborts. A file that does not exist yet is waited for. A
 * file replaced by a new one (the same path, another inode) is read to its
 * end, then the new file is followed from its first byte. A file that shrank
 * is read again from the start.
 */
export const followFiles = async (files: readonly string[], options: FollowOptions): Promise<void> => {
  const tracked: Tracked[] = files.map((file) => ({ file, position: 0, partial: Buffer.alloc(0) }));
  try {
    for (const entry of tracked) await openInitial(entry, options);
    while (!options.signal.aborted) {
      await sleep(options.intervalMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal.aborted) break;
      for (const entry of tracked) await poll(entry, options);
    }
    for (const entry of tracked) flushPartial(entry, options);
  } finally {
    for (const entry of tracked) await entry.handle?.close();
  }
};

const openInitial = async (entry: Tracked, options: FollowOptions): Promise<void> => {
  const handle = await openIfExists(entry.file);
  if (handle === undefined) return;
  const info = await handle.stat();
  entry.handle = handle;
  entry.inode = info.ino;
  entry.position = info.size;
  const lines = await readLastLines(handle, info.size, options.initialLines);
  if (lines.length > 0) options.onEvent({ kind: "lines", file: entry.file, lines });
};

const poll = async (entry: Tracked, options: FollowOptions): Promise<void> => {
  const current = await stat(entry.file).catch(() => undefined);
  if (entry.handle !== undefined && current?.ino !== entry.inode) {
    // Rotated or removed: what was written to the old file before goes out first.
    await readNew(entry, options);
    flushPartial(entry, options);
    await entry.handle.close();
    entry.handle = undefined;
    const message = current === undefined ? "was removed; waiting for a new one" : "was replaced by a new file (the VM restarted); following the new file";
    options.onEvent({ kind: "notice", file: entry.file, message });
  }
  if (entry.handle === undefined) {
    if (current === undefined) return;
    const handle = await openIfExists(entry.file);
    if (handle === undefined) return;
    entry.handle = handle;
    entry.inode = (await handle.stat()).ino;
    entry.position = 0;
  }
  const size = (await entry.handle.stat()).size;
  if (size < entry.position) {
    options.onEvent({ kind: "notice", file: entry.file, message: "was truncated; reading it from the start" });
    entry.position = 0;
    entry.partial = Buffer.alloc(0);
  }
  await readNew(entry, options);
};

const readNew = async (entry: Tracked, options: FollowOptions): Promise<void> => {
  const handle = entry.handle;
  if (handle === undefined) return;
  const lines: string[] = [];
  for (;;) {
    const chunk = Buffer.alloc(chunkBytes);
    const { bytesRead } = await handle.read(chunk, 0, chunkBytes, entry.position);
    if (bytesRead === 0) break;
    entry.position += bytesRead;
    let data = Buffer.concat([entry.partial, chunk.subarray(0, bytesRead)]);
    let newline: number;
    while ((newline = data.indexOf(0x0a)) >= 0) {
      lines.push(data.subarray(0, newline).toString("utf8"));
      data = data.subarray(newline + 1);
    }
    entry.partial = Buffer.from(data);
  }
  if (lines.length > 0) options.onEvent({ kind: "lines", file: entry.file, lines });
};

// A line still missing its newline when its file is closed is shown as it is.
const flushPartial = (entry: Tracked, options: FollowOptions): void => {
  if (entry.partial.length === 0) return;
  options.onEvent({ kind: "lines", file: entry.file, lines: [entry.partial.toString("utf8")] });
  entry.partial = Buffer.alloc(0);
};

const openIfExists = async (file: string): Promise<FileHandle | undefined> => {
  try {
    return await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
};
