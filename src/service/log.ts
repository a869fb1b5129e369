// The log of `ffvm watch`: plain lines on stderr, which systemd's journal
// stores with its own timestamps. Colour only on a terminal.

import type { EngineEvent } from "../log/events.js";
import type { Output } from "../cli/output.js";
import { paint } from "../cli/output.js";
import { printEvent } from "../cli/render/events.js";

export interface ServiceLog {
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
  /** Prints an engine event as `ffvm reconcile` does: one line per action with site, kind and reason. */
  event: (event: EngineEvent) => void;
  /** Logs `message` with `level` unless the same key was logged since the last forget(key). */
  once: (key: string, level: "info" | "warn" | "error", message: string) => void;
  /** Lets the message of `key` be logged again. */
  forget: (key: string) => void;
}

/**
 * Creates the log. `timestamps` prefixes local HH:MM:SS, for a terminal; the
 * journal adds its own.
 */
// Keys remembered by once(); the oldest is dropped beyond this, so that a
// service running for months does not grow without bound.
const maxOnceKeys = 1000;

export const createServiceLog = (output: Output, timestamps: boolean): ServiceLog => {
  const stamp = (): string => (timestamps ? `${new Date().toTimeString().slice(0, 8)} ` : "");
  const stamped: Output = { ...output, err: (text) => output.err(`${stamp()}${text}`) };
  const logged = new Set<string>();
  const log: ServiceLog = {
    info: (message) => stamped.err(message),
    warn: (message) => stamped.err(paint(output, "yellow", `warning: ${message}`)),
    error: (message) => stamped.err(paint(output, "red", `error: ${message}`)),
    event: (event) => printEvent(stamped, event),
    once: (key, level, message) => {
      if (logged.has(key)) return;
      logged.add(key);
      if (logged.size > maxOnceKeys) logged.delete(logged.values().next().value!);
      log[level](message);
    },
    forget: (key) => {
      logged.delete(key);
    },
  };
  return log;
};
