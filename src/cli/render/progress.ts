// Progress of a reconcile. On a terminal, finished actions scroll up as
// plain lines. Under them, a block with one line per running action is
// redrawn in place with ANSI cursor movement: its elapsed time and latest
// message, such as nix's last output line. Elsewhere every event is one plain
// line (render/events.ts).

import type { Action } from "../../plan/actions.js";
import type { EngineEvent, EventListener } from "../../log/events.js";
import { escapeControl } from "../../util/command-error.js";
import { forStderr, paint, type Color, type LiveTerminal, type Output } from "../output.js";
import { printEvent } from "./events.js";
import { formatResult } from "./plan.js";

/** Receives engine events and shows them; close() before printing anything else. */
export interface EventView {
  emit: EventListener;
  /** Erases the block of running actions and stops its timer. */
  close: () => void;
}

/** Returns the live view on a terminal that allows it, else one plain line per event. */
export const createEventView = (output: Output, clock: () => number = () => performance.now()): EventView => {
  if (output.live === undefined) return { emit: (event) => printEvent(output, event), close: () => undefined };
  return new LiveProgress(output, output.live, clock);
};

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

// How often the block is redrawn while actions run, for the spinner and the
// elapsed time, and at most how often progress messages redraw it.
const tickMs = 125;

interface Running {
  action: Action;
  startedAt: number;
  message: string;
}

interface Segment {
  text: string;
  color?: Color;
}

class LiveProgress implements EventView {
  readonly #output: Output;
  readonly #terminal: LiveTerminal;
  readonly #clock: () => number;
  readonly #running = new Map<number, Running>();
  #blockLines = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(output: Output, terminal: LiveTerminal, clock: () => number) {
    this.#output = forStderr(output);
    this.#terminal = terminal;
    this.#clock = clock;
  }

  readonly emit = (event: EngineEvent): void => {
    switch (event.kind) {
      case "action-started":
        this.#running.set(event.action.id, { action: event.action, startedAt: this.#clock(), message: "" });
        this.#draw([]);
        return;
      case "action-progress": {
        const entry = this.#running.get(event.action.id);
        if (entry !== undefined) entry.message = event.message;
        // nix can print thousands of lines a second; the timer draws the latest.
        this.#schedule();
        return;
      }
      case "action-finished":
        this.#running.delete(event.result.action.id);
        this.#draw([formatResult(this.#output, event.result)]);
        return;
      case "lock-waiting":
        this.#draw([`waiting for the state directory lock held by ${event.holder}`]);
        return;
      case "warning":
        this.#draw([paint(this.#output, "yellow", event.problem === true ? event.message : `warning: ${event.message}`)]);
        return;
    }
  };

  readonly close = (): void => {
    this.#stopTimer();
    if (this.#blockLines > 0) this.#terminal.write(this.#eraseBlock());
    this.#blockLines = 0;
  };

  // Erases the block, prints the permanent lines, and draws the block anew
  // below them, in one write so the terminal never shows a half-drawn state.
  #draw(permanent: readonly string[]): void {
    const block = this.#renderBlock();
    const text = this.#eraseBlock() + permanent.map((line) => `${line}\n`).join("") + block.map((line) => `${line}\n`).join("");
    this.#blockLines = block.length;
    this.#terminal.write(text);
    this.#schedule();
  }

  // The cursor sits at the start of the line below the block: move up over
  // it and erase to the end of the screen.
  #eraseBlock(): string {
    return this.#blockLines === 0 ? "" : `\r\u001b[${this.#blockLines}A\u001b[J`;
  }

  #renderBlock(): string[] {
    const width = Math.max(20, this.#terminal.columns() - 1);
    const spinner = spinnerFrames[this.#frame % spinnerFrames.length]!;
    const now = this.#clock();
    return [...this.#running.values()]
      .sort((a, b) => a.action.id - b.action.id)
      .map((entry) => {
        const subject = `${entry.action.site === "" ? "(image)" : entry.action.site} ${entry.action.kind}`;
        const segments: Segment[] = [
          { text: `${spinner} `, color: "cyan" },
          { text: subject },
          { text: ` ${formatElapsed(now - entry.startedAt)}`, color: "dim" },
        ];
        if (entry.message !== "") segments.push({ text: `  ${escapeControl(entry.message)}`, color: "dim" });
        return this.#fit(segments, width);
      });
  }

  // Cuts a line to the terminal width, because a wrapped line would make the
  // block taller than the count of lines the next redraw moves up over.
  #fit(segments: readonly Segment[], width: number): string {
    let room = width;
    let line = "";
    for (const segment of segments) {
      if (room <= 0) break;
      const text = truncateToWidth(segment.text, room);
      room -= displayWidth(text);
      line += segment.color === undefined ? text : paint(this.#output, segment.color, text);
    }
    return line;
  }

  #schedule(): void {
    if (this.#running.size === 0) {
      this.#stopTimer();
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.#frame++;
      this.#draw([]);
    }, tickMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Formats a duration in milliseconds as 7s or 2m05s. */
export const formatElapsed = (ms: number): string => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
};

// NOTE: an approximation of wcwidth: East Asian wide ranges and most emoji
// count two columns, combining marks none. A character it gets wrong can make
// a line wrap and leave a stale line on the screen until the next event.
const charWidth = (codePoint: number): number => {
  if ((codePoint >= 0x0300 && codePoint <= 0x036f) || (codePoint >= 0x200b && codePoint <= 0x200f) || codePoint === 0xfe0f) return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
};

/** Returns the number of terminal columns a string without escape sequences takes. */
export const displayWidth = (text: string): number => {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0)!);
  return width;
};

/** Cuts text to at most `width` columns, ending in … when it was cut. */
export const truncateToWidth = (text: string, width: number): string => {
  if (displayWidth(text) <= width) return text;
  let result = "";
  let used = 0;
  for (const char of text) {
    const next = charWidth(char.codePointAt(0)!);
    if (used + next > width - 1) break;
    result += char;
    used += next;
  }
  return `${result}…`;
};
