// Runs the guest scripts of nix/scripts on the host in three environments:
//   - dash with the host's GNU tools,
//   - bash with errexit, nounset and pipefail, as writeShellApplication runs them,
//   - busybox sh with only busybox applets on PATH, as in the test guest.
// PATH holds only the commands that each script's header lists, so a missing entry
// there fails these tests. ffvm-vpn changes network state, so its fail-closed cases
// run in a new network and mount namespace (unshare -nm) and never touch the host's
// interfaces.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/guest.js';

const scriptsDir = path.join(repoRoot, 'nix', 'scripts');

// Host commands the scripts may call, from the "Commands used" lines of their headers.
const HOST_TOOLS = [
  'cat', 'cp', 'chmod', 'dd', 'dirname', 'find', 'ip', 'ifconfig', 'ls', 'mkdir', 'mktemp',
  'mv', 'rm', 'rmdir', 'sed', 'tar', 'tr', 'wc',
];

interface Environment {
  name: string;
  shell: string[];
  toolsDir: string;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let fixtures: string;
const environments: Environment[] = [];

function findExecutable(name: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runScript(
  environment: Environment,
  script: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<RunResult> {
  const [shell, ...shellArgs] = environment.shell;
  return runCommand(shell!, [...shellArgs, path.join(scriptsDir, script), ...args], {
    PATH: environment.toolsDir,
    TMPDIR: fixtures,
    ...extraEnv,
  });
}

async function makeSource(members: Record<string, string | Buffer>): Promise<string> {
  const source = await mkdtemp(path.join(fixtures, 'src-'));
  for (const [name, content] of Object.entries(members)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), content);
  }
  return source;
}

/** Runs GNU tar (the host's) in dir with args and returns the archive path. */
async function gnuTar(dir: string, args: string[]): Promise<string> {
  const tarPath = path.join(await mkdtemp(path.join(fixtures, 'tar-')), 'site.tar');
  const result = await runCommand('tar', ['-cf', tarPath, '-C', dir, ...args], process.env);
  expect(result.stderr.replace(/tar: Removing leading .*\n/g, '')).toBe('');
  expect(result.code).toBe(0);
  return tarPath;
}

async function ustarOf(members: Record<string, string | Buffer>, extraArgs: string[] = []): Promise<string> {
  const source = await makeSource(members);
  return gnuTar(source, ['--format=ustar', ...extraArgs, ...Object.keys(members)]);
}

async function modeOf(file: string): Promise<string> {
  return ((await stat(file)).mode & 0o7777).toString(8);
}

async function newDest(): Promise<string> {
  return path.join(await mkdtemp(path.join(fixtures, 'dest-')), 'site');
}

beforeAll(async () => {
  fixtures = await mkdtemp(path.join(tmpdir(), 'ffvm-scripts-'));

  const gnuTools = path.join(fixtures, 'gnu-tools');
  await mkdir(gnuTools);
  for (const tool of HOST_TOOLS) {
    const found = findExecutable(tool);
    if (found) {
      await symlink(found, path.join(gnuTools, tool));
    }
  }
  const dash = findExecutable('dash') ?? findExecutable('sh');
  const bash = findExecutable('bash');
  if (dash) {
    environments.push({ name: 'dash', shell: [dash], toolsDir: gnuTools });
  }
  if (bash) {
    environments.push({
      name: 'bash strict',
      shell: [bash, '-o', 'errexit', '-o', 'nounset', '-o', 'pipefail'],
      toolsDir: gnuTools,
    });
  }

  const busybox = findExecutable('busybox');
  if (busybox) {
    const busyboxTools = path.join(fixtures, 'busybox-tools');
    await mkdir(busyboxTools);
    const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const applet of applets) {
      await symlink(busybox, path.join(busyboxTools, applet));
    }
    environments.push({ name: 'busybox', shell: [busybox, 'sh'], toolsDir: busyboxTools });
  }
});

afterAll(async () => {
  await rm(fixtures, { recursive: true, force: true });
});

const ENVIRONMENT_NAMES = ['dash', 'bash strict', 'busybox'];

function environmentNamed(name: string): Environment {
  const environment = environments.find((candidate) => candidate.name === name);
  if (!environment) {
    throw new Error(`shell environment "${name}" is not available on this host; install dash, bash and busybox`);
  }
  return environment;
}

describe.each(ENVIRONMENT_NAMES)('ffvm-unpack-site under %s', (environmentName) => {
  const unpack = (raw: string, dest: string) => runScript(environmentNamed(environmentName), 'ffvm-unpack-site', [raw, dest]);

  async function expectRejected(raw: string, member: string): Promise<RunResult> {
    const dest = await newDest();
    const result = await unpack(raw, dest);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`'${member}'`);
    expect(existsSync(dest)).toBe(false);
    // No staging directory is left next to DEST.
    expect(await readdir(path.dirname(dest))).toEqual([]);
    return result;
  }

  it('extracts all allowed members', async () => {
    const addon = randomBytes(5000);
    const members = {
      url: 'https://example.org/?a=1,b&c="d" é\n',
      name: 'example',
      'policies.json': '{"policies":{}}',
      'userChrome.css': '#nav-bar { display: none; }\n',
      'wireguard.conf': '[Interface]\n',
      'addons/ublock@example.org.xpi': addon,
      'addons/a-b_c.1.xpi': 'second',
    };
    const raw = await ustarOf(members);
    const dest = await newDest();

    const result = await unpack(raw, dest);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await modeOf(dest)).toBe('700');
    expect(await modeOf(path.join(dest, 'addons'))).toBe('700');
    for (const [name, content] of Object.entries(members)) {
      expect(await modeOf(path.join(dest, name)), `mode of ${name}`).toBe('600');
      expect((await readFile(path.join(dest, name))).equals(Buffer.from(content)), `content of ${name}`).toBe(true);
    }
    expect((await readdir(dest)).sort()).toEqual(
      ['addons', 'name', 'policies.json', 'url', 'userChrome.css', 'wireguard.conf'],
    );
  });

  it('accepts addons/ directory member and prefix field', async () => {
    // A 106-character name does not fit the 100-byte name field, so GNU tar stores
    // "addons" in the ustar prefix field.
    const longName = `addons/${'a'.repeat(95)}.xpi`;
    const source = await makeSource({ url: 'u', [longName]: 'x' });
    const raw = await gnuTar(source, ['--format=ustar', 'url', 'addons']);
    const dest = await newDest();

    const result = await unpack(raw, dest);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readFile(path.join(dest, longName), 'utf8')).toBe('x');
    expect(await modeOf(path.join(dest, 'addons'))).toBe('700');
  });

  it('accepts existing empty destination', async () => {
    const raw = await ustarOf({ url: 'u' });
    const dest = await newDest();
    await mkdir(dest, { mode: 0o755 });

    const result = await unpack(raw, dest);

    expect(result.code).toBe(0);
    expect(await modeOf(dest)).toBe('700');
    expect(await readdir(dest)).toEqual(['url']);
  });

  it('rejects non-empty destination', async () => {
    const raw = await ustarOf({ url: 'u' });
    const dest = await newDest();
    await mkdir(dest);
    await writeFile(path.join(dest, 'url'), 'old');

    const result = await unpack(raw, dest);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not empty');
    expect(await readFile(path.join(dest, 'url'), 'utf8')).toBe('old');
  });

  it('leaves rejected destination untouched', async () => {
    const raw = await ustarOf({ url: 'u', evil: 'e' });
    const dest = await newDest();
    await mkdir(dest, { mode: 0o755 });
    await chmod(dest, 0o755);

    const result = await unpack(raw, dest);

    expect(result.code).toBe(1);
    expect(await readdir(dest)).toEqual([]);
    expect(await modeOf(dest)).toBe('755');
  });

  it('rejects ../evil', async () => {
    const raw = await ustarOf({ url: 'u', evil: 'e' }, ['-P', '--transform', 's|^evil$|../evil|']);
    const result = await expectRejected(raw, '../evil');
    expect(result.stderr).toContain("'..'");
  });

  it('rejects .. inside addons path', async () => {
    const raw = await ustarOf({ url: 'u' }, ['-P', '--transform', 's|^url$|addons/../url|']);
    await expectRejected(raw, 'addons/../url');
  });

  it('rejects absolute path', async () => {
    const raw = await ustarOf({ evil: 'e' }, ['-P', '--transform', 's|^evil$|/etc/evil|']);
    const result = await expectRejected(raw, '/etc/evil');
    expect(result.stderr).toContain('absolute');
  });

  it('rejects unknown member', async () => {
    await expectRejected(await ustarOf({ url: 'u', 'prefs.js': 'x' }), 'prefs.js');
  });

  it('rejects other directories', async () => {
    const source = await makeSource({ 'chrome/userChrome.css': 'x' });
    await expectRejected(await gnuTar(source, ['--format=ustar', '--no-recursion', 'chrome']), 'chrome/');
  });

  it.each([
    ['addons/a b.xpi', 'addons/a?b.xpi'],
    ['addons/notes.txt', 'addons/notes.txt'],
    ['addons/sub/x.xpi', 'addons/sub/x.xpi'],
    ['addons/.xpi', 'addons/.xpi'],
  ])('rejects add-on member %s', async (member, reported) => {
    await expectRejected(await ustarOf({ [member]: 'x' }), reported);
  });

  it('rejects symbolic link', async () => {
    const source = await makeSource({});
    await symlink('/etc/passwd', path.join(source, 'url'));
    const result = await expectRejected(await gnuTar(source, ['--format=ustar', 'url']), 'url');
    expect(result.stderr).toContain("type '2'");
  });

  it('rejects hard link', async () => {
    const source = await makeSource({ name: 'n' });
    await link(path.join(source, 'name'), path.join(source, 'url'));
    const result = await expectRejected(await gnuTar(source, ['--format=ustar', 'name', 'url']), 'url');
    expect(result.stderr).toContain("type '1'");
  });

  it('rejects character device', async () => {
    const raw = await gnuTar('/', ['--format=ustar', '--transform', 's|^dev/null$|url|', 'dev/null']);
    const result = await expectRejected(raw, 'url');
    expect(result.stderr).toContain("type '3'");
  });

  it('rejects FIFO', async () => {
    const source = await makeSource({});
    const mkfifo = await runCommand('mkfifo', [path.join(source, 'url')], process.env);
    expect(mkfifo.code).toBe(0);
    const result = await expectRejected(await gnuTar(source, ['--format=ustar', 'url']), 'url');
    expect(result.stderr).toContain("type '6'");
  });

  it('rejects duplicate member', async () => {
    const raw = await ustarOf({ url: 'first' });
    const source = await makeSource({ url: 'second' });
    const append = await runCommand('tar', ['--format=ustar', '-rf', raw, '-C', source, 'url'], process.env);
    expect(append.code).toBe(0);
    const result = await expectRejected(raw, 'url');
    expect(result.stderr).toContain('duplicate');
  });

  it('rejects pax extended header', async () => {
    const source = await makeSource({ url: 'u' });
    const result = await expectRejected(await gnuTar(source, ['--format=pax', 'url']), './PaxHeaders/url');
    expect(result.code).toBe(1);
  });

  it('rejects old GNU header', async () => {
    const source = await makeSource({ url: 'u' });
    const result = await expectRejected(await gnuTar(source, ['--format=gnu', 'url']), 'url');
    expect(result.stderr).toContain('POSIX ustar');
  });

  it('rejects member after end-of-archive blocks', async () => {
    const first = await readFile(await ustarOf({ url: 'u' }));
    const second = await readFile(await ustarOf({ evil: 'e' }));
    const raw = path.join(await mkdtemp(path.join(fixtures, 'tar-')), 'joined.tar');
    await writeFile(raw, Buffer.concat([first, second]));
    await expectRejected(raw, 'evil');
  });

  it('rejects truncated archive', async () => {
    const raw = await ustarOf({ url: 'u'.repeat(4000) });
    await truncate(raw, 1024);
    await expectRejected(raw, 'url');
  });

  it('rejects file that is not tar', async () => {
    const raw = path.join(await mkdtemp(path.join(fixtures, 'tar-')), 'site.tar');
    await writeFile(raw, 'not an archive\n');
    const dest = await newDest();

    const result = await unpack(raw, dest);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a multiple of 512');
    expect(existsSync(dest)).toBe(false);
  });

  it('removes its temporary files', async () => {
    const scratch = await mkdtemp(path.join(fixtures, 'scratch-'));
    const environment = environmentNamed(environmentName);
    const accepted = await ustarOf({ url: 'u' });
    const rejected = await ustarOf({ url: 'u', evil: 'e' });

    const acceptedResult = await runScript(environment, 'ffvm-unpack-site', [accepted, await newDest()], {
      TMPDIR: scratch,
    });
    const rejectedResult = await runScript(environment, 'ffvm-unpack-site', [rejected, await newDest()], {
      TMPDIR: scratch,
    });

    expect(acceptedResult.code).toBe(0);
    expect(rejectedResult.code).toBe(1);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('rejects missing archive', async () => {
    const dest = await newDest();

    const result = await unpack(path.join(fixtures, 'missing.tar'), dest);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not found');
  });
});

describe.each(ENVIRONMENT_NAMES)('ffvm-install-policies under %s', (environmentName) => {
  const install = (siteDir: string, destFile: string) =>
    runScript(environmentNamed(environmentName), 'ffvm-install-policies', [siteDir, destFile]);

  it('installs site policies with mode 0644', async () => {
    const policies = '{"policies":{"ExtensionSettings":{"a@b":{"install_url":"file:///run/ffvm/addons/a@b.xpi"}}}}\n';
    const siteDir = await makeSource({ 'policies.json': policies });
    await chmod(path.join(siteDir, 'policies.json'), 0o600);
    const destFile = path.join(await mkdtemp(path.join(fixtures, 'etc-')), 'firefox', 'policies', 'policies.json');

    const result = await install(siteDir, destFile);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readFile(destFile, 'utf8')).toBe(policies);
    expect(await modeOf(destFile)).toBe('644');
    expect(await readdir(path.dirname(destFile))).toEqual(['policies.json']);
  });

  it('writes empty policies when absent', async () => {
    const siteDir = await makeSource({ url: 'u' });
    const destFile = path.join(await mkdtemp(path.join(fixtures, 'etc-')), 'policies.json');
    await writeFile(destFile, '{"policies":{"Old":true}}');

    const result = await install(siteDir, destFile);

    expect(result.code).toBe(0);
    expect(await readFile(destFile, 'utf8')).toBe('{"policies":{}}\n');
    expect(await modeOf(destFile)).toBe('644');
  });
});

describe.each(ENVIRONMENT_NAMES)('ffvm-setup-profile under %s', (environmentName) => {
  const setup = (siteDir: string, profileDir: string) =>
    runScript(environmentNamed(environmentName), 'ffvm-setup-profile', [siteDir, profileDir]);

  it('copies userChrome.css and writes user.js', async () => {
    const css = '#TabsToolbar { visibility: collapse; }\n';
    const siteDir = await makeSource({ 'userChrome.css': css });
    const profileDir = path.join(await mkdtemp(path.join(fixtures, 'home-')), 'profile');

    const result = await setup(siteDir, profileDir);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await modeOf(profileDir)).toBe('700');
    expect(await modeOf(path.join(profileDir, 'chrome'))).toBe('700');
    expect(await readFile(path.join(profileDir, 'chrome', 'userChrome.css'), 'utf8')).toBe(css);
    expect(await modeOf(path.join(profileDir, 'chrome', 'userChrome.css'))).toBe('600');
    const userJs = await readFile(path.join(profileDir, 'user.js'), 'utf8');
    expect(userJs).toContain('user_pref("toolkit.legacyUserProfileCustomizations.stylesheets", true);\n');
    expect(userJs).toContain('user_pref("browser.shell.checkDefaultBrowser", false);\n');
    expect(userJs).toContain('user_pref("browser.aboutwelcome.enabled", false);\n');
    expect(await modeOf(path.join(profileDir, 'user.js'))).toBe('600');
    expect((await readdir(profileDir)).sort()).toEqual(['chrome', 'user.js']);
  });

  it('removes stale userChrome.css', async () => {
    const profileDir = path.join(await mkdtemp(path.join(fixtures, 'home-')), 'profile');
    await mkdir(path.join(profileDir, 'chrome'), { recursive: true });
    await writeFile(path.join(profileDir, 'chrome', 'userChrome.css'), 'old');
    await writeFile(path.join(profileDir, 'prefs.js'), 'kept');
    const siteDir = await makeSource({ url: 'u' });

    const result = await setup(siteDir, profileDir);

    expect(result.code).toBe(0);
    expect(existsSync(path.join(profileDir, 'chrome', 'userChrome.css'))).toBe(false);
    expect(await readFile(path.join(profileDir, 'prefs.js'), 'utf8')).toBe('kept');
  });
});

/** Returns true when this process can create network and mount namespaces (as root, without a seccomp filter against it). */
function canUnshareNetwork(): boolean {
  const probe = spawnSync('unshare', ['-nm', 'true']);
  return probe.status === 0;
}

const unshareAvailable = canUnshareNetwork();

/**
 * Runs ffvm-vpn inside a new network and mount namespace with a veth pair (v0 up,
 * 192.0.2.2/24, default route via 192.0.2.1), and returns its result followed by the
 * namespace's link and IPv4 route listings.
 */
async function runVpnIsolated(
  environment: Environment,
  args: string[],
  extraEnv: Record<string, string>,
): Promise<RunResult & { links: string; routes: string }> {
  const ip = findExecutable('ip');
  const mount = findExecutable('mount');
  const unshare = findExecutable('unshare');
  if (!ip || !mount || !unshare) {
    throw new Error('ip, mount and unshare are needed to test ffvm-vpn in a network namespace');
  }

  // The host tools are called by absolute path, so the script under test finds only
  // the tools on environment.toolsDir.
  const setupScript = [
    'set -e',
    `${mount} -t sysfs sysfs /sys`,
    `${ip} link add v0 type veth peer name v1`,
    `${ip} addr add 192.0.2.2/24 dev v0`,
    `${ip} link set v0 up`,
    `${ip} link set v1 up`,
    `${ip} route add default via 192.0.2.1`,
    'set +e',
    '"$@"',
    'status=$?',
    'echo "--- links" >&2',
    `${ip} -o link show >&2`,
    'echo "--- routes" >&2',
    `${ip} -4 route show >&2`,
    'exit $status',
  ].join('\n');

  const [shell, ...shellArgs] = environment.shell;
  const result = await runCommand(
    unshare,
    ['-nm', '/bin/sh', '-c', setupScript, 'sh', shell!, ...shellArgs, path.join(scriptsDir, 'ffvm-vpn'), ...args],
    { PATH: environment.toolsDir, TMPDIR: fixtures, ...extraEnv },
  );

  const [stderr, rest = ''] = result.stderr.split('--- links\n');
  const [links = '', routes = ''] = rest.split('--- routes\n');
  return { ...result, stderr: stderr ?? '', links, routes };
}

async function makeStubs(wgQuickExit: number): Promise<string> {
  const dir = await mkdtemp(path.join(fixtures, 'stubs-'));
  const log = path.join(dir, 'calls.log');
  const stub = (name: string, exit: number) =>
    `#!/bin/sh\necho "${name} $*" >>'${log}'\nexit ${exit}\n`;
  await writeFile(path.join(dir, 'wg'), stub('wg', 0), { mode: 0o755 });
  await writeFile(path.join(dir, 'wg-quick'), stub('wg-quick', wgQuickExit), { mode: 0o755 });
  return dir;
}

describe.each(ENVIRONMENT_NAMES)('ffvm-vpn under %s', (environmentName) => {
  const wireguardConf = '[Interface]\nPrivateKey = placeholder\n';

  it('leaves network alone without config', async () => {
    const siteDir = await makeSource({ url: 'u' });
    const wgDir = path.join(await mkdtemp(path.join(fixtures, 'wg-')), 'wireguard');

    const result = await runScript(environmentNamed(environmentName), 'ffvm-vpn', [siteDir, 'wg0'], {
      FFVM_WG_DIR: wgDir,
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('vpn=none\n');
    expect(existsSync(wgDir)).toBe(false);
  });

  describe.skipIf(!unshareAvailable)('in a network namespace (needs unshare -nm)', () => {
    // wg and wg-quick are on PATH only where a test adds stubs for them.
    const isolatedEnvironment = (stubs?: string): Environment => {
      const base = environmentNamed(environmentName);
      return { ...base, toolsDir: stubs ? `${stubs}:${base.toolsDir}` : base.toolsDir };
    };

    it('fails closed when wg is missing', async () => {
      const siteDir = await makeSource({ 'wireguard.conf': wireguardConf });
      const wgDir = path.join(await mkdtemp(path.join(fixtures, 'wg-')), 'wireguard');
      const hostHasWg = findExecutable('wg') !== undefined;

      const result = await runVpnIsolated(isolatedEnvironment(), [siteDir, 'wg0'], { FFVM_WG_DIR: wgDir });

      if (!hostHasWg) {
        expect(result.stderr).toContain('wg not found');
      }
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('vpn=failed\n');
      expect(result.links).not.toMatch(/v0@v1: <[^>]*\bUP\b/);
      expect(result.links).not.toMatch(/v1@v0: <[^>]*\bUP\b/);
      expect(result.routes).toBe('');
      expect(await readFile(path.join(wgDir, 'wg0.conf'), 'utf8')).toBe(wireguardConf);
      expect(await modeOf(path.join(wgDir, 'wg0.conf'))).toBe('600');
      expect(await modeOf(wgDir)).toBe('700');
    });

    it('fails closed when wg-quick fails', async () => {
      const siteDir = await makeSource({ 'wireguard.conf': wireguardConf });
      const wgDir = path.join(await mkdtemp(path.join(fixtures, 'wg-')), 'wireguard');
      const stubs = await makeStubs(1);

      const result = await runVpnIsolated(isolatedEnvironment(stubs), [siteDir, 'wg0'], { FFVM_WG_DIR: wgDir });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('wg-quick up');
      expect(result.links).not.toMatch(/v0@v1: <[^>]*\bUP\b/);
      expect(result.routes).toBe('');
      const calls = await readFile(path.join(stubs, 'calls.log'), 'utf8');
      expect(calls).toContain(`wg-quick up ${wgDir}/wg0.conf`);
      expect(calls).toContain(`wg-quick down ${wgDir}/wg0.conf`);
    });

    it('fails closed on invalid interface name', async () => {
      const siteDir = await makeSource({ 'wireguard.conf': wireguardConf });
      const wgDir = path.join(await mkdtemp(path.join(fixtures, 'wg-')), 'wireguard');
      const stubs = await makeStubs(0);

      const result = await runVpnIsolated(isolatedEnvironment(stubs), [siteDir, 'wg0/../x'], {
        FFVM_WG_DIR: wgDir,
      });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('invalid interface name');
      expect(result.routes).toBe('');
      expect(existsSync(wgDir)).toBe(false);
    });

    it('keeps network up when tunnel starts', async () => {
      const siteDir = await makeSource({ 'wireguard.conf': wireguardConf });
      const wgDir = path.join(await mkdtemp(path.join(fixtures, 'wg-')), 'wireguard');
      const stubs = await makeStubs(0);

      const result = await runVpnIsolated(isolatedEnvironment(stubs), [siteDir, 'wg0'], { FFVM_WG_DIR: wgDir });

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('vpn=up\n');
      expect(result.links).toMatch(/v0@v1: <[^>]*\bUP\b/);
      expect(result.routes).toContain('default via 192.0.2.1');
      const calls = await readFile(path.join(stubs, 'calls.log'), 'utf8');
      expect(calls).toBe(`wg-quick up ${wgDir}/wg0.conf\nwg show wg0\n`);
    });
  });
});
