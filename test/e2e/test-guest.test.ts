// Boots the test guest under QEMU (TCG) and checks what it reports: the site values
// from the fw_cfg archive, the -m and -smp values, the disk marker across boots, the
// open-url port, and the exit on QMP system_powerdown.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readGuestReport, startGuest, waitForGuestLine, type RunningGuest } from '../helpers/guest.js';

const run = promisify(execFile);

const BOOT_TIMEOUT_MS = 60_000;
const SITE_URL = 'https://example.org/a path/?q=1,2&x="quoted" \'single\' & café-ü-日本\n';
const SITE_NAME = 'example-site';

let fixtures: string;
let siteTar: string;
const guests: RunningGuest[] = [];

/** Makes a ustar archive at tarPath with GNU tar from a map of member name to content. */
async function makeTar(tarPath: string, members: Record<string, string | Buffer>): Promise<void> {
  const source = await mkdtemp(path.join(fixtures, 'src-'));
  for (const [name, content] of Object.entries(members)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), content);
  }
  await run('tar', ['--format=ustar', '-cf', tarPath, '-C', source, ...Object.keys(members)]);
}

async function boot(options: Parameters<typeof startGuest>[0]): Promise<RunningGuest> {
  const guest = await startGuest(options);
  guests.push(guest);
  await waitForGuestLine(guest.serialLog, /^ready$/, BOOT_TIMEOUT_MS, guest.exited);
  return guest;
}

/** Connects to a QMP socket, completes capabilities negotiation and runs one command. */
async function qmpExecute(socketPath: string, command: string): Promise<unknown> {
  const socket = createConnection(socketPath);
  socket.setEncoding('utf8');
  const messages: Record<string, unknown>[] = [];
  let buffered = '';
  let wake: () => void = () => undefined;
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      messages.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      buffered = buffered.slice(newline + 1);
    }
    wake();
  });
  const closed = new Promise<void>((_resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`QMP socket ${socketPath} closed`)));
  });
  closed.catch(() => undefined);

  // Events (messages with "event") can arrive between a command and its reply.
  async function nextReply(): Promise<Record<string, unknown>> {
    for (;;) {
      const index = messages.findIndex((message) => 'return' in message || 'error' in message || 'QMP' in message);
      if (index >= 0) {
        return messages.splice(index, 1)[0]!;
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), closed]);
    }
  }

  try {
    const greeting = await nextReply();
    expect(greeting).toHaveProperty('QMP');
    socket.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
    expect(await nextReply()).toEqual({ return: {} });
    socket.write(JSON.stringify({ execute: command }) + '\n');
    const reply = await nextReply();
    if ('error' in reply) {
      throw new Error(`QMP ${command} failed: ${JSON.stringify(reply.error)}`);
    }
    return reply.return;
  } finally {
    socket.destroy();
  }
}

beforeAll(async () => {
  fixtures = await mkdtemp(path.join(tmpdir(), 'ffvm-test-guest-'));
  siteTar = path.join(fixtures, 'site.tar');
  await makeTar(siteTar, { url: SITE_URL, name: SITE_NAME });
});

afterEach(async () => {
  for (const guest of guests.splice(0)) {
    await guest.cleanup();
  }
});

afterAll(async () => {
  await rm(fixtures, { recursive: true, force: true });
});

describe('test guest', () => {
  it('reports exact url bytes, memory and cpus', async () => {
    const guest = await boot({ siteTar, args: ['-m', '320', '-smp', '2'] });

    const report = await readGuestReport(guest.serialLog);
    expect(report.boot).toBe(true);
    expect(report.site).toBe('ok');
    expect(report.steps.get('ffvm-unpack-site')).toBe(0);
    expect(report.url?.equals(Buffer.from(SITE_URL, 'utf8'))).toBe(true);
    expect(report.url?.toString('utf8')).toBe(SITE_URL);
    expect(report.name).toBe(SITE_NAME);
    expect(report.memoryMib).toBe(320);
    expect(report.cpus).toBe(2);
    expect(report.errors).toEqual([]);
  });

  it('uses runner defaults without site', async () => {
    const guest = await boot({});

    const report = await readGuestReport(guest.serialLog);
    expect(report.site).toBe('none');
    expect(report.url).toBeUndefined();
    expect(report.memoryMib).toBe(128);
    expect(report.cpus).toBe(1);
    expect(report.network).toBe('none');
    expect(report.steps.size).toBe(0);
  });

  it('keeps disk marker across boots', async () => {
    const diskDir = await mkdtemp(path.join(fixtures, 'disk-'));
    const diskImage = path.join(diskDir, 'persistent.qcow2');

    const first = await boot({ diskImage });
    const firstReport = await readGuestReport(first.serialLog);
    expect(firstReport.marker).toBeNull();
    expect(firstReport.markerWritten).toBe('boot-1');
    await qmpExecute(first.qmpSocket, 'system_powerdown');
    expect(await first.exited).toBe(0);

    const second = await boot({ diskImage });
    const secondReport = await readGuestReport(second.serialLog);
    expect(secondReport.marker).toBe('boot-1');
    expect(secondReport.markerWritten).toBe('boot-2');

    const fresh = await boot({});
    const freshReport = await readGuestReport(fresh.serialLog);
    expect(freshReport.marker).toBeNull();
  });

  it('exits on QMP system_powerdown', async () => {
    const guest = await boot({});

    await qmpExecute(guest.qmpSocket, 'system_powerdown');
    await waitForGuestLine(guest.serialLog, /^powerdown$/, 20_000);
    const exitCode = await Promise.race([
      guest.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000)),
    ]);
    expect(exitCode).toBe(0);
  });

  it('reports lines from org.ffvm.open port', async () => {
    const workDir = await mkdtemp(path.join(fixtures, 'port-'));
    const portSocket = path.join(workDir, 'open.sock');
    const guest = await boot({
      args: [
        '-device',
        'virtio-serial',
        '-chardev',
        `socket,id=open0,path=${portSocket},server=on,wait=off`,
        '-device',
        'virtserialport,chardev=open0,name=org.ffvm.open',
      ],
    });
    const firstUrl = 'https://example.org/first?a=1,b=2&c="d"';
    const secondUrl = 'https://example.org/zweite Seite/ü';

    const socket = createConnection(portSocket);
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('error', reject);
    });
    socket.write(`${firstUrl}\n${secondUrl}\n`);
    await waitForGuestLine(guest.serialLog, /^open-url-base64=/, 20_000, guest.exited);
    await waitForGuestLine(
      guest.serialLog,
      new RegExp(`^open-url-base64=${Buffer.from(secondUrl).toString('base64').replace(/[+/]/g, '\\$&')}$`),
      20_000,
      guest.exited,
    );
    socket.destroy();

    const report = await readGuestReport(guest.serialLog);
    expect(report.openUrls.map((url) => url.toString('utf8'))).toEqual([firstUrl, secondUrl]);
  });
});
