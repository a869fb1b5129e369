// Vitest globalSetup: builds the test guest once per run (a no-op when it is up to
// date). A failed build does not stop the run, because unit tests do not need the
// guest. The error is passed on through the environment instead, and guestDir()
// throws it in every test that boots the guest.
//
// It also gives the run a temporary folder of its own through TMPDIR, which
// the tests and the processes they start inherit, and removes it afterwards,
// so that no test leaves files in /tmp.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest, defaultGuestDir, GUEST_BUILD_ERROR_ENV, GUEST_DIR_ENV } from './helpers/guest.js';

export default async function setup(): Promise<() => void> {
  const runTmp = mkdtempSync(join(tmpdir(), 'ffvm-tests-'));
  // Other users may pass through it, because some tests run ffvm as the user nobody.
  chmodSync(runTmp, 0o711);
  process.env.TMPDIR = runTmp;
  const dir = process.env[GUEST_DIR_ENV] || defaultGuestDir();
  try {
    await buildGuest(dir);
    process.env[GUEST_DIR_ENV] = dir;
    delete process.env[GUEST_BUILD_ERROR_ENV];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.env[GUEST_BUILD_ERROR_ENV] = message;
    console.warn(`test guest build failed; tests that boot it will fail: ${message}`);
  }
  return () => rmSync(runTmp, { recursive: true, force: true });
}
