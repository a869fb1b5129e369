// The progress view of reconcile: redrawn in place on a terminal, one plain
// line per event elsewhere.

import { describe, expect, it } from "vitest";
import type { Action } from "../../src/plan/actions.js";
import type { Output } from "../../src/cli/output.js";
import { createEventView, displayWidth, formatElapsed, truncateToWidth } from "../../src/cli/render/progress.js";

const build: Action = { id: 1, kind: "build-image", site: "", reason: "ImageChanged", message: "./nix#vm" };
const start: Action = { id: 2, kind: "start-vm", site: "bank", reason: "PinnedNotRunning", message: "2048 MiB, 2 CPUs" };

interface Capture {
  output: Output;
  written: string[];
  err: string[];
}

const capture = (live: boolean, color = false, columns = 80): Capture => {
  const written: string[] = [];
  const err: string[] = [];
  const output: Output = { out: () => undefined, err: (text) => err.push(text), color };
  if (live) output.live = { write: (text) => written.push(text), columns: () => columns };
  return { output, written, err };
};

// Replays the writes on a minimal screen model and returns the lines left on
// it. The model handles newline, carriage return, cursor up (CSI n A), erase
// to end of screen (CSI J) and SGR, the only controls the view writes.
const screen = (writes: readonly string[]): string[] => {
  const lines: string[] = [""];
  let row = 0;
  const text = writes.join("");
  for (let index = 0; index < text.length; index++) {
    const rest = text.slice(index);
    const up = /^\u001b\[(\d+)A/.exec(rest);
    if (up !== null) {
      row = Math.max(0, row - Number(up[1]));
      index += up[0].length - 1;
      continue;
    }
    if (rest.startsWith("\u001b[J")) {
      lines.length = row + 1;
      lines[row] = "";
      index += 2;
      continue;
    }
    const sgr = /^\u001b\[[0-9;]*m/.exec(rest);
    if (sgr !== null) {
      index += sgr[0].length - 1;
      continue;
    }
    const char = text[index]!;
    if (char === "\n") {
      row++;
      if (lines[row] === undefined) lines[row] = "";
    } else if (char === "\r") {
      continue;
    } else {
      lines[row] += char;
    }
  }
  return lines.filter((line, index) => line !== "" || index < lines.length - 1);
};

describe("createEventView on a terminal", () => {
  it("shows running actions and replaces them when done", () => {
    let now = 0;
    const { output, written } = capture(true);
    const view = createEventView(output, () => now);
    view.emit({ kind: "action-started", action: build });
    now = 3200;
    view.emit({ kind: "action-progress", action: build, message: "building '/nix/store/abc-vm.drv'" });
    view.emit({ kind: "action-started", action: start });
    expect(screen(written)).toEqual(["⠋ (image) build-image 3s  building '/nix/store/abc-vm.drv'", "⠋ bank start-vm 0s"]);

    now = 9000;
    view.emit({ kind: "action-finished", result: { action: build, outcome: "done", durationMs: 9000 } });
    expect(screen(written)).toEqual(["✓ (image) build-image ImageChanged done in 9.0 s", "⠋ bank start-vm 5s"]);

    view.emit({ kind: "action-finished", result: { action: start, outcome: "failed", error: "QEMU exited", durationMs: 5800 } });
    view.close();
    expect(screen(written)).toEqual(["✓ (image) build-image ImageChanged done in 9.0 s", "✗ bank start-vm PinnedNotRunning failed after 5.8 s: QEMU exited"]);
  });

  it("moves up over exactly the lines it drew", () => {
    const { output, written } = capture(true);
    const view = createEventView(output, () => 0);
    view.emit({ kind: "action-started", action: build });
    view.emit({ kind: "action-started", action: start });
    expect(written.at(-1)).toMatch(/^\r\u001b\[1A\u001b\[J/);
    view.close();
    expect(written.at(-1)).toBe("\r\u001b[2A\u001b[J");
  });

  it("cuts lines to the terminal width", () => {
    const { output, written } = capture(true, false, 40);
    const view = createEventView(output, () => 0);
    view.emit({ kind: "action-started", action: build });
    view.emit({ kind: "action-progress", action: build, message: "x".repeat(200) });
    view.emit({ kind: "warning", message: "noted" });
    const lines = screen(written);
    expect(lines.at(-1)).toHaveLength(39);
    expect(lines.at(-1)?.endsWith("…")).toBe(true);
    view.close();
  });

  it("escapes control characters in messages", () => {
    const { output, written } = capture(true);
    const view = createEventView(output, () => 0);
    view.emit({ kind: "action-started", action: build });
    view.emit({ kind: "action-progress", action: build, message: "evil \u001b]0;title\u0007 text" });
    view.emit({ kind: "lock-waiting", holder: "pid 1 (ffvm watch)" });
    expect(screen(written).at(-1)).toContain("evil \\x1b]0;title\\x07 text");
    view.close();
  });

  it("colours only with colour on", () => {
    const plain = capture(true, false);
    const plainView = createEventView(plain.output, () => 0);
    plainView.emit({ kind: "action-started", action: start });
    plainView.close();
    expect(plain.written.join("")).not.toMatch(/\u001b\[3\dm/);
    const colored = capture(true, true);
    const coloredView = createEventView(colored.output, () => 0);
    coloredView.emit({ kind: "action-started", action: start });
    coloredView.close();
    expect(colored.written.join("")).toMatch(/\u001b\[36m⠋/);
  });
});

describe("createEventView elsewhere", () => {
  it("prints one plain line per event", () => {
    const { output, err } = capture(false);
    const view = createEventView(output);
    view.emit({ kind: "action-started", action: start });
    view.emit({ kind: "action-progress", action: start, message: "QEMU pid 7 started" });
    view.emit({ kind: "action-finished", result: { action: start, outcome: "done", durationMs: 1500 } });
    view.close();
    expect(err).toEqual(["… bank start-vm started", "  bank start-vm: QEMU pid 7 started", "✓ bank start-vm PinnedNotRunning done in 1.5 s"]);
  });
});

describe("width helpers", () => {
  it("counts wide characters twice", () => {
    expect(displayWidth("abc")).toBe(3);
    expect(displayWidth("日本")).toBe(4);
    expect(displayWidth("e\u0301")).toBe(1);
  });

  it("truncates by columns", () => {
    expect(truncateToWidth("abcdef", 4)).toBe("abc…");
    expect(truncateToWidth("日本語", 4)).toBe("日…");
    expect(truncateToWidth("abc", 3)).toBe("abc");
  });

  it("formats elapsed time", () => {
    expect(formatElapsed(0)).toBe("0s");
    expect(formatElapsed(59_999)).toBe("59s");
    expect(formatElapsed(125_000)).toBe("2m05s");
  });
});
