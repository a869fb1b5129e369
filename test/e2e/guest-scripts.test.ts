// Boots the test guest, which runs the guest scripts of nix/scripts on the site
// archive, and checks the files they put in place and the network state they leave.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  readGuestReport,
  startGuest,
  waitForGuestLine,
  type GuestReport,
  type RunningGuest,
} from '../helpers/guest.js';

const run = promisify(execFile);

const BOOT_TIMEOUT_MS = 60_000;
// QEMU user networking without a route to the outside. The guest gives eth0 10.0.2.15.
const NIC_ARGS = ['-netdev', 'user,id=n0,restrict=on', '-device', 'virtio-net-pci,netdev=n0'];

const SITE_DIR = '/run/ffvm';
const POLICIES_PATH = '/etc/firefox/policies/policies.json';
const PROFILE_DIR = '/home/ffvm/profile';
const WIREGUARD_PATH = '/etc/wireguard/wg0.conf';

const url = 'https://mail.example.org/inbox?folder=a,b&x="y"\n';
const addonOne = randomBytes(3000);
const addonTwo = randomBytes(700);
const policies = JSON.stringify({
  policies: {
    ExtensionSettings: {
      'ublock@example.org': {
        installation_mode: 'force_installed',
        install_url: 'file:///run/ffvm/addons/ublock@example.org.xpi',
      },
      'second@example.org': {
        installation_mode: 'force_installed',
        install_url: 'file:///run/ffvm/addons/second-addon_1.0.xpi',
      },
    },
  },
});
const userChrome = '#TabsToolbar { visibility: collapse !important; }\n';
const wireguardConf = [
  '[Interface]',
  `PrivateKey = ${randomBytes(32).toString('base64')}`,
  'Address = 10.8.0.2/32',
  '',
  '[Peer]',
  `PublicKey = ${randomBytes(32).toString('base64')}`,
  'Endpoint = 192.0.2.1:51820',
  'AllowedIPs = 0.0.0.0/0',
  '',
].join('\n');

let fixtures: string;
const guests: RunningGuest[] = [];

async function makeTar(tarPath: string, members: Record<string, string | Buffer>, extraArgs: string[] = []) {
  const source = await mkdtemp(path.join(fixtures, 'src-'));
  for (const [name, content] of Object.entries(members)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), content);
  }
  await run('tar', ['--format=ustar', '-cf', tarPath, ...extraArgs, '-C', source, ...Object.keys(members)]);
}

async function bootWithSite(tarPath: string): Promise<GuestReport> {
  const guest = await startGuest({ siteTar: tarPath, args: NIC_ARGS });
  guests.push(guest);
  await waitForGuestLine(guest.serialLog, /^ready$/, BOOT_TIMEOUT_MS, guest.exited);
  return readGuestReport(guest.serialLog);
}

function expectFile(report: GuestReport, guestPath: string, mode: number, content: string | Buffer) {
  const file = report.files.get(guestPath);
  expect(file, `${guestPath} reported`).toBeDefined();
  expect(file!.mode.toString(8), `mode of ${guestPath}`).toBe(mode.toString(8));
  expect(file!.content.equals(Buffer.from(content)), `content of ${guestPath}`).toBe(true);
}

beforeAll(async () => {
  fixtures = await mkdtemp(path.join(tmpdir(), 'ffvm-guest-scripts-'));
});

afterEach(async () => {
  for (const guest of guests.splice(0)) {
    await guest.cleanup();
  }
});

afterAll(async () => {
  await rm(fixtures, { recursive: true, force: true });
});

describe('guest scripts in test guest', () => {
  it('places files and fails closed without wg', async () => {
    const tarPath = path.join(fixtures, 'full.tar');
    await makeTar(tarPath, {
      url,
      name: 'mail',
      'policies.json': policies,
      'userChrome.css': userChrome,
      'wireguard.conf': wireguardConf,
      'addons/ublock@example.org.xpi': addonOne,
      'addons/second-addon_1.0.xpi': addonTwo,
    });

    const report = await bootWithSite(tarPath);

    expect(report.site).toBe('ok');
    expect(report.steps.get('ffvm-unpack-site')).toBe(0);
    expect(report.steps.get('ffvm-install-policies')).toBe(0);
    expect(report.steps.get('ffvm-setup-profile')).toBe(0);
    expect(report.url?.toString('utf8')).toBe(url);

    expect(report.dirs.get(SITE_DIR)?.toString(8)).toBe('700');
    expect(report.dirs.get(`${SITE_DIR}/addons`)?.toString(8)).toBe('700');
    expectFile(report, `${SITE_DIR}/url`, 0o600, url);
    expectFile(report, `${SITE_DIR}/name`, 0o600, 'mail');
    expectFile(report, `${SITE_DIR}/policies.json`, 0o600, policies);
    expectFile(report, `${SITE_DIR}/addons/ublock@example.org.xpi`, 0o600, addonOne);
    expectFile(report, `${SITE_DIR}/addons/second-addon_1.0.xpi`, 0o600, addonTwo);

    expectFile(report, POLICIES_PATH, 0o644, policies);

    expect(report.dirs.get(PROFILE_DIR)?.toString(8)).toBe('700');
    expect(report.dirs.get(`${PROFILE_DIR}/chrome`)?.toString(8)).toBe('700');
    expectFile(report, `${PROFILE_DIR}/chrome/userChrome.css`, 0o600, userChrome);
    const userJs = report.files.get(`${PROFILE_DIR}/user.js`);
    expect(userJs?.mode.toString(8)).toBe('600');
    expect(userJs?.content.toString('utf8')).toContain(
      'user_pref("toolkit.legacyUserProfileCustomizations.stylesheets", true);',
    );
    expect(userJs?.content.toString('utf8')).toContain('user_pref("browser.shell.checkDefaultBrowser", false);');

    expectFile(report, WIREGUARD_PATH, 0o600, wireguardConf);
    expect(report.dirs.get('/etc/wireguard')?.toString(8)).toBe('700');
    expect(report.steps.get('ffvm-vpn')).toBe(1);
    expect(report.output.get('ffvm-vpn')).toContain('vpn=failed');
    expect(report.output.get('ffvm-vpn')?.join('\n')).toMatch(/wg not found/);
    expect(report.network).toBe('refused');
    expect(report.routes).toBe(0);
  });

  it('keeps network up without wireguard.conf', async () => {
    const tarPath = path.join(fixtures, 'no-vpn.tar');
    await makeTar(tarPath, { url, name: 'plain' });

    const report = await bootWithSite(tarPath);

    expect(report.site).toBe('ok');
    expect(report.steps.get('ffvm-vpn')).toBe(0);
    expect(report.output.get('ffvm-vpn')).toEqual(['vpn=none']);
    expect(report.network).toBe('up');
    expect(report.routes).toBeGreaterThan(0);
    expectFile(report, POLICIES_PATH, 0o644, '{"policies":{}}\n');
    expect(report.files.has(`${PROFILE_DIR}/chrome/userChrome.css`)).toBe(false);
    expect(report.files.has(WIREGUARD_PATH)).toBe(false);
  });

  it('rejects archive with ../evil', async () => {
    const tarPath = path.join(fixtures, 'evil.tar');
    await makeTar(tarPath, { url, evil: 'owned\n' }, ['-P', '--transform', 's|^evil$|../evil|']);
    const listing = await run('tar', ['-tf', tarPath]);
    expect(listing.stdout.split('\n')).toContain('../evil');

    const report = await bootWithSite(tarPath);

    expect(report.site).toBe('rejected');
    expect(report.steps.get('ffvm-unpack-site')).toBe(1);
    expect(report.output.get('ffvm-unpack-site')?.join('\n')).toContain("'../evil'");
    expect(report.steps.has('ffvm-install-policies')).toBe(false);
    expect(report.steps.has('ffvm-vpn')).toBe(false);
    expect(report.dirs.has(SITE_DIR)).toBe(false);
    expect([...report.files.keys()]).toEqual([]);
  });
});
