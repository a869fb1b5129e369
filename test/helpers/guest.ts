// Helpers for tests that boot the ffvm test guest (test/guest) under QEMU.
//
// test/globalSetup.ts builds the guest once per test run into test/.cache/guest, or
// into $FFVM_TEST_GUEST_DIR when that is set. The guest prints its report lines on
// the serial console, and test/guest/init lists them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Environment variable that overrides the guest build directory. */
export const GUEST_DIR_ENV = 'FFVM_TEST_GUEST_DIR';

/** Environment variable in which globalSetup stores a failed build's error message. */
export const GUEST_BUILD_ERROR_ENV = 'FFVM_TEST_GUEST_BUILD_ERROR';

/** Prefix of every report line that test/guest/init writes to the console. */
export const REPORT_PREFIX = 'ffvm-guest: ';

export function defaultGuestDir(): string {
  return path.join(repoRoot, 'test', '.cache', 'guest');
}

/**
 * Returns the directory with vmlinuz, initrd.img and bin/run-testguest-vm.
 * Throws when globalSetup could not build the guest or the runner is missing.
 */
export function guestDir(): string {
  const buildError = process.env[GUEST_BUILD_ERROR_ENV];
  if (buildError) {
    throw new Error(`test guest build failed in globalSetup: ${buildError}`);
  }
  const dir = process.env[GUEST_DIR_ENV] || defaultGuestDir();
  if (!existsSync(path.join(dir, 'bin', 'run-testguest-vm'))) {
    throw new Error(
      `test guest not found in ${dir}; run "bash test/guest/build.sh ${dir}" or run vitest with test/globalSetup.ts`,
    );
  }
  return dir;
}

/** Returns the path of the runner, which takes the arguments of a NixOS run-*-vm script. */
export function runnerPath(): string {
  return path.join(guestDir(), 'bin', 'run-testguest-vm');
}

/** Builds the guest into outDir with test/guest/build.sh, which does nothing when outDir is up to date. */
export async function buildGuest(outDir: string = defaultGuestDir()): Promise<void> {
  const script = path.join(repoRoot, 'test', 'guest', 'build.sh');
  const child = spawn('bash', [script, outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`bash ${script} ${outDir} exited with ${code}: ${output.trim()}`);
  }
}

export interface GuestFile {
  mode: number;
  content: Buffer;
}

/** Facts the guest reported, parsed from its report lines. */
export interface GuestReport {
  boot: boolean;
  memoryMib?: number;
  cpus?: number;
  site?: 'none' | 'ok' | 'rejected';
  /** Exit status of each guest script that ran, by script name. */
  steps: Map<string, number>;
  /** Output lines (stdout and stderr) of each guest script, by script name. */
  output: Map<string, string[]>;
  name?: string;
  /** Exact bytes of the site's url member. */
  url?: Buffer;
  /** Modes of the directories the scripts created, by guest path. */
  dirs: Map<string, number>;
  /** Files the scripts wrote, by guest path. */
  files: Map<string, GuestFile>;
  network?: 'up' | 'refused' | 'none';
  /** Number of IPv4 routes in the guest's main table after the scripts ran. */
  routes?: number;
  /** Marker of the previous boot of this disk ("boot-N"), or null for a new disk. */
  marker?: string | null;
  markerWritten?: string;
  noDisk: boolean;
  ready: boolean;
  /** Lines received on the virtio-serial port org.ffvm.open, as bytes. */
  openUrls: Buffer[];
  powerdown: boolean;
  errors: string[];
  /** Every report line without the prefix, in order. */
  lines: string[];
}

/** Returns the report lines in text, without the "ffvm-guest: " prefix and line endings. */
export function reportLines(text: string): string[] {
  const lines: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const start = line.indexOf(REPORT_PREFIX);
    if (start >= 0) {
      lines.push(line.slice(start + REPORT_PREFIX.length));
    }
  }
  return lines;
}

function parseMode(octal: string): number {
  return Number.parseInt(octal, 8);
}

/** Parses the serial console text of one guest boot. Unknown lines are kept in lines only. */
export function parseGuestReport(text: string): GuestReport {
  const report: GuestReport = {
    boot: false,
    steps: new Map(),
    output: new Map(),
    dirs: new Map(),
    files: new Map(),
    noDisk: false,
    ready: false,
    openUrls: [],
    powerdown: false,
    errors: [],
    lines: reportLines(text),
  };
  for (const line of report.lines) {
    let match: RegExpMatchArray | null;
    if (line === 'boot') {
      report.boot = true;
    } else if (line === 'ready') {
      report.ready = true;
    } else if (line === 'powerdown') {
      report.powerdown = true;
    } else if (line === 'disk=none') {
      report.noDisk = true;
    } else if ((match = line.match(/^memory-mib=(\d+)$/))) {
      report.memoryMib = Number(match[1]);
    } else if ((match = line.match(/^cpus=(\d+)$/))) {
      report.cpus = Number(match[1]);
    } else if ((match = line.match(/^site=(none|ok|rejected)$/))) {
      report.site = match[1] as GuestReport['site'];
    } else if ((match = line.match(/^step (\S+) exit=(\d+)$/))) {
      report.steps.set(match[1]!, Number(match[2]));
    } else if ((match = line.match(/^output (\S+) (.*)$/))) {
      const lines = report.output.get(match[1]!) ?? [];
      lines.push(match[2]!);
      report.output.set(match[1]!, lines);
    } else if ((match = line.match(/^name=(.*)$/))) {
      report.name = match[1];
    } else if ((match = line.match(/^url-base64=([A-Za-z0-9+/=]*)$/))) {
      report.url = Buffer.from(match[1]!, 'base64');
    } else if ((match = line.match(/^dir (\S+) mode=([0-7]+)$/))) {
      report.dirs.set(match[1]!, parseMode(match[2]!));
    } else if ((match = line.match(/^file (\S+) mode=([0-7]+) base64=([A-Za-z0-9+/=]*)$/))) {
      report.files.set(match[1]!, { mode: parseMode(match[2]!), content: Buffer.from(match[3]!, 'base64') });
    } else if ((match = line.match(/^network=(up|refused|none)$/))) {
      report.network = match[1] as GuestReport['network'];
    } else if ((match = line.match(/^routes=(\d+)$/))) {
      report.routes = Number(match[1]);
    } else if ((match = line.match(/^marker=(.*)$/))) {
      report.marker = match[1] === 'none' ? null : match[1];
    } else if ((match = line.match(/^marker-written=(.*)$/))) {
      report.markerWritten = match[1];
    } else if ((match = line.match(/^open-url-base64=([A-Za-z0-9+/=]*)$/))) {
      report.openUrls.push(Buffer.from(match[1]!, 'base64'));
    } else if ((match = line.match(/^error (.*)$/))) {
      report.errors.push(match[1]!);
    }
  }
  return report;
}

/** Reads and parses a serial log written with QEMU's -serial file:PATH. */
export async function readGuestReport(serialLog: string): Promise<GuestReport> {
  return parseGuestReport(await readFile(serialLog, 'utf8'));
}

async function readIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return '';
    }
    throw error;
  }
}

/**
 * Polls serialLog every 50 ms until a report line (prefix removed) matches pattern,
 * and returns the match. Rejects after timeoutMs with the last report lines in the
 * message, or as soon as `exited` settles, because a stopped guest writes nothing more.
 */
export async function waitForGuestLine(
  serialLog: string,
  pattern: RegExp,
  timeoutMs: number,
  exited?: Promise<unknown>,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let stopped = false;
  void exited?.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  for (;;) {
    const wasStopped = stopped;
    const lines = reportLines(await readIfExists(serialLog));
    for (const line of lines) {
      const match = line.match(pattern);
      if (match) {
        return match;
      }
    }
    if (wasStopped || Date.now() >= deadline) {
      const reason = wasStopped ? 'QEMU exited' : `timed out after ${timeoutMs} ms`;
      const tail = lines.slice(-10).join('\n  ');
      throw new Error(`no guest line matched ${pattern} in ${serialLog} (${reason}); last lines:\n  ${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface GuestOptions {
  /** Site archive passed as the fw_cfg entry opt/ffvm/site; omitted when undefined. */
  siteTar?: string;
  /** qcow2 disk image; created by the runner when missing. Defaults to a new one in workDir. */
  diskImage?: string;
  /** Extra QEMU arguments, after the runner's defaults and the serial and QMP options. */
  args?: string[];
}

export interface RunningGuest {
  child: ChildProcess;
  workDir: string;
  serialLog: string;
  qmpSocket: string;
  diskImage: string;
  /** Resolves with the exit code (or signal name) when QEMU exits. */
  exited: Promise<number | string>;
  /** Kills QEMU if it still runs and removes workDir. */
  cleanup(): Promise<void>;
}

/**
 * Starts the runner with a serial log and a QMP socket in a new temporary directory.
 * TMPDIR and USE_TMPDIR point the runner at that directory, as the NixOS runner
 * would otherwise create nix-vm.* directories under /tmp.
 */
export async function startGuest(options: GuestOptions = {}): Promise<RunningGuest> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'ffvm-guest-'));
  const serialLog = path.join(workDir, 'serial.log');
  const qmpSocket = path.join(workDir, 'qmp.sock');
  const diskImage = options.diskImage ?? path.join(workDir, 'disk.qcow2');
  const args = ['-serial', `file:${serialLog}`, '-qmp', `unix:${qmpSocket},server=on,wait=off`];
  if (options.siteTar !== undefined) {
    args.push('-fw_cfg', `name=opt/ffvm/site,file=${options.siteTar}`);
  }
  args.push(...(options.args ?? []));

  const child = spawn(runnerPath(), args, {
    env: { ...process.env, NIX_DISK_IMAGE: diskImage, TMPDIR: workDir, USE_TMPDIR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  exited.catch(() => undefined);
  child.on('exit', (code) => {
    if (code !== 0 && code !== null && stderr) {
      process.stderr.write(`test guest QEMU exited with ${code}: ${stderr}\n`);
    }
  });

  return {
    child,
    workDir,
    serialLog,
    qmpSocket,
    diskImage,
    exited,
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited.catch(() => undefined);
      }
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
