import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { QmpClient, QmpError, type QmpEvent } from "../../src/qemu/qmp.js";

// A QEMU with no machine starts at once and serves QMP, which is all these tests need.
const startQemu = async (): Promise<{ socket: string; qemu: ResultPromise }> => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-qmp-"));
  const socket = join(dir, "qmp.sock");
  const qemu = execa("qemu-system-x86_64", ["-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", `unix:${socket},server=on,wait=off`], { reject: false });
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = await QmpClient.connect(socket, 500).catch(() => undefined);
    if (client !== undefined) {
      client.close();
      return { socket, qemu };
    }
    await sleep(50);
  }
  throw new Error("QEMU did not open its QMP socket");
};

describe("QmpClient", () => {
  let qemu: ResultPromise | undefined;
  afterEach(() => {
    qemu?.kill("SIGKILL");
  });

  it("negotiates and runs commands", async () => {
    const started = await startQemu();
    qemu = started.qemu;
    const client = await QmpClient.connect(started.socket);
    expect(await client.execute("query-status")).toMatchObject({ status: "prelaunch", running: false });
    client.close();
  });

  it("delivers events between replies", async () => {
    const started = await startQemu();
    qemu = started.qemu;
    const client = await QmpClient.connect(started.socket);
    const events: QmpEvent[] = [];
    client.onEvent((event) => events.push(event));
    await client.execute("cont");
    await client.execute("stop");
    expect(await client.execute("query-status")).toMatchObject({ status: "paused" });
    expect(events.map((event) => event.event)).toEqual(["RESUME", "STOP"]);
    client.close();
  });

  it("rejects with the QMP error class", async () => {
    const started = await startQemu();
    qemu = started.qemu;
    const client = await QmpClient.connect(started.socket);
    const failure = client.execute("no-such-command");
    await expect(failure).rejects.toBeInstanceOf(QmpError);
    await expect(failure).rejects.toThrow("QMP no-such-command failed: CommandNotFound");
    client.close();
  });

  it("resolves closed when QEMU quits", async () => {
    const started = await startQemu();
    qemu = started.qemu;
    const client = await QmpClient.connect(started.socket);
    await client.execute("quit").catch(() => undefined);
    await client.closed;
    expect((await started.qemu).exitCode).toBe(0);
  });

  it("fails to connect to a missing socket", async () => {
    await expect(QmpClient.connect("/nonexistent/qmp.sock", 500)).rejects.toThrow(/ENOENT/);
  });
});
