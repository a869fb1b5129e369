// Reading and following VM logs: tails, rotation, truncation, escaping.

import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { escapeLogLine, followFiles, readLastLines, type FollowEvent } from "../../src/vm/logs.js";

const tempDir = (): string => mkdtempSync(join(tmpdir(), "ffvm-logs-"));

const lastLines = async (content: string | Buffer, count: number): Promise<string[]> => {
  const file = join(tempDir(), "log");
  writeFileSync(file, content);
  const handle = await open(file, "r");
  try {
    return await readLastLines(handle, (await handle.stat()).size, count);
  } finally {
    await handle.close();
  }
};

describe("readLastLines", () => {
  it("returns the last lines", async () => {
    expect(await lastLines("a\nb\nc\n", 2)).toEqual(["b", "c"]);
    expect(await lastLines("a\nb\nc\n", 10)).toEqual(["a", "b", "c"]);
    expect(await lastLines("a\nb\nc", 1)).toEqual(["c"]);
    expect(await lastLines("a\nb\nc", 0)).toEqual([]);
    expect(await lastLines("", 5)).toEqual([]);
  });

  it("reads a large file from its end", async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index} ${"x".repeat(40)}`);
    expect(await lastLines(`${lines.join("\n")}\n`, 3)).toEqual(lines.slice(-3));
  });
});

describe("escapeLogLine", () => {
  it("escapes escape sequences and control characters", () => {
    expect(escapeLogLine("\u001b[2J\u001b]0;owned\u0007ok\r")).toBe("\\x1b[2J\\x1b]0;owned\\x07ok");
    expect(escapeLogLine("bell\u0007 del\u007f c1\u009b")).toBe("bell\\x07 del\\x7f c1\\x9b");
  });

  it("escapes bidirectional formatting", () => {
    expect(escapeLogLine("file\u202etxt.exe")).toBe("file\\u{202e}txt.exe");
    expect(escapeLogLine("a\u2066b\u2069\u2028")).toBe("a\\u{2066}b\\u{2069}\\u{2028}");
  });

  it("keeps tabs and ordinary text", () => {
    expect(escapeLogLine("ffvm-guest: ready\tü 日本")).toBe("ffvm-guest: ready\tü 日本");
  });
});

describe("followFiles", () => {
  const follow = (files: string[], initialLines: number) => {
    const events: FollowEvent[] = [];
    const controller = new AbortController();
    const done = followFiles(files, { initialLines, intervalMs: 20, signal: controller.signal, onEvent: (event) => events.push(event) });
    const lines = (file: string): string[] => events.flatMap((event) => (event.kind === "lines" && event.file === file ? event.lines : []));
    const notices = (): string[] => events.flatMap((event) => (event.kind === "notice" ? [event.message] : []));
    const waitFor = async (check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(events)}`);
        await sleep(10);
      }
    };
    return { events, lines, notices, waitFor, stop: async () => { controller.abort(); await done; } };
  };

  it("prints the tail, then new lines", async () => {
    const file = join(tempDir(), "serial.log");
    writeFileSync(file, "one\ntwo\nthree\n");
    const follower = follow([file], 2);
    await follower.waitFor(() => follower.lines(file).length === 2);
    expect(follower.lines(file)).toEqual(["two", "three"]);
    appendFileSync(file, "four\nfi");
    await follower.waitFor(() => follower.lines(file).includes("four"));
    appendFileSync(file, "ve\n");
    await follower.waitFor(() => follower.lines(file).includes("five"));
    await follower.stop();
    expect(follower.lines(file)).toEqual(["two", "three", "four", "five"]);
  });

  it("follows a rotated log into the new file", async () => {
    const file = join(tempDir(), "serial.log");
    writeFileSync(file, "boot 1\n");
    const follower = follow([file], 10);
    await follower.waitFor(() => follower.lines(file).length === 1);
    // What a VM start does: the old log moves aside, then QEMU creates a new one.
    appendFileSync(file, "last of boot 1");
    renameSync(file, `${file}.1`);
    await sleep(60);
    writeFileSync(file, "boot 2\n");
    await follower.waitFor(() => follower.lines(file).includes("boot 2"));
    appendFileSync(file, "ready\n");
    await follower.waitFor(() => follower.lines(file).includes("ready"));
    await follower.stop();
    expect(follower.lines(file)).toEqual(["boot 1", "last of boot 1", "boot 2", "ready"]);
    expect(follower.notices().some((message) => /removed|replaced/.test(message))).toBe(true);
  });

  it("follows a log replaced between two polls", async () => {
    const file = join(tempDir(), "serial.log");
    writeFileSync(file, "boot 1\n");
    const follower = follow([file], 10);
    await follower.waitFor(() => follower.lines(file).length === 1);
    appendFileSync(file, "end of boot 1\n");
    renameSync(file, `${file}.1`);
    writeFileSync(file, "boot 2\n");
    await follower.waitFor(() => follower.lines(file).includes("boot 2"));
    await follower.stop();
    expect(follower.lines(file)).toEqual(["boot 1", "end of boot 1", "boot 2"]);
    expect(follower.notices()).toEqual(["was replaced by a new file (the VM restarted); following the new file"]);
  });

  it("waits for a log that does not exist yet", async () => {
    const file = join(tempDir(), "qemu.log");
    const follower = follow([file], 5);
    await sleep(60);
    writeFileSync(file, "started\n");
    await follower.waitFor(() => follower.lines(file).length === 1);
    await follower.stop();
    expect(follower.lines(file)).toEqual(["started"]);
  });

  it("reads a truncated log from the start", async () => {
    const file = join(tempDir(), "qemu.log");
    writeFileSync(file, "a long first line\n");
    const follower = follow([file], 0);
    await sleep(60);
    truncateSync(file, 0);
    await sleep(60);
    appendFileSync(file, "new\n");
    await follower.waitFor(() => follower.lines(file).includes("new"));
    await follower.stop();
    expect(follower.lines(file)).toEqual(["new"]);
    expect(follower.notices()).toContain("was truncated; reading it from the start");
  });

  it("follows two files and names each", async () => {
    const dir = tempDir();
    const qemu = join(dir, "qemu.log");
    const serial = join(dir, "serial.log");
    writeFileSync(qemu, "q1\n");
    writeFileSync(serial, "s1\n");
    const follower = follow([qemu, serial], 1);
    await follower.waitFor(() => follower.lines(serial).length === 1);
    appendFileSync(serial, "s2\n");
    appendFileSync(qemu, "q2\n");
    await follower.waitFor(() => follower.lines(qemu).length === 2 && follower.lines(serial).length === 2);
    await follower.stop();
    expect(follower.lines(qemu)).toEqual(["q1", "q2"]);
    expect(follower.lines(serial)).toEqual(["s1", "s2"]);
  });
});
