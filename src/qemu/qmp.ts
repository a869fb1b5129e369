// A QMP client over a unix socket: greeting, capabilities negotiation, then
// commands matched to replies by id, with events that may arrive in between.

import { createConnection, type Socket } from "node:net";

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

/** An error reply from QEMU, with its QMP error class. */
export class QmpError extends Error {
  readonly errorClass: string;

  constructor(command: string, errorClass: string, description: string) {
    super(`QMP ${command} failed: ${errorClass}: ${description}`);
    this.name = "QmpError";
    this.errorClass = errorClass;
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #eventListeners = new Set<(event: QmpEvent) => void>();
  #buffer = "";
  #nextId = 1;
  #closed = false;
  #greeting: ((message: Record<string, unknown>) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#receive(chunk));
    socket.on("close", () => this.#fail(new Error("QMP connection closed")));
    socket.on("error", (error) => this.#fail(error));
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = await openSocket(path, timeoutMs);
    const client = new QmpClient(socket);
    try {
      await withTimeout(client.#waitForGreeting(), timeoutMs, `QMP greeting on ${path} timed out after ${timeoutMs} ms`);
      await withTimeout(client.execute("qmp_capabilities"), timeoutMs, `QMP capabilities negotiation timed out after ${timeoutMs} ms`);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /**
   * Sends a command and resolves with its `return` value. With `timeoutMs`, it
   * rejects when no reply comes in time, as from a QEMU that hangs.
   */
  execute(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error(`QMP ${command} failed: connection closed`));
    const id = `ffvm-${this.#nextId++}`;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    const reply = new Promise((resolve, reject) => {
      this.#pending.set(id, { command, resolve, reject });
      this.#socket.write(`${JSON.stringify(message)}\n`);
    });
    if (timeoutMs === undefined) return reply;
    return withTimeout(reply, timeoutMs, `QMP ${command} got no reply within ${timeoutMs} ms`).finally(() => this.#pending.delete(id));
  }

  /** Calls `listener` for every asynchronous event; returns a function that removes it. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Resolves when the connection closes, as it does when QEMU exits. */
  get closed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#socket.once("close", () => resolve()));
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #waitForGreeting(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#greeting = resolve;
    });
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line !== "") this.#dispatch(line);
      newline = this.#buffer.indexOf("\n");
    }
  }

  #dispatch(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if ("QMP" in message) {
      this.#greeting?.(message);
      this.#greeting = undefined;
    } else if ("event" in message) {
      for (const listener of this.#eventListeners) listener(message as unknown as QmpEvent);
    } else if (typeof message.id === "string") {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      const error = message.error as { class?: string; desc?: string } | undefined;
      if (error !== undefined) pending.reject(new QmpError(pending.command, error.class ?? "GenericError", error.desc ?? ""));
      else pending.resolve(message.return);
    }
  }

  #fail(error: Error): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.reject(new Error(`QMP ${pending.command} failed: ${error.message}`));
    this.#pending.clear();
  }
}

const openSocket = (path: string, timeoutMs: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to QMP socket ${path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });

const withTimeout = <T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
