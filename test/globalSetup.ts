// Vitest globalSetup: builds the test guest once per run (a no-op when it is up to
// date). A failed build does not stop the run, because unit tests do not need the
// guest. The error is passed on through the environment instead, and guestDir()
// throws it in every test that boots the guest.
import { buildGuest, defaultGuestDir, GUEST_BUILD_ERROR_ENV, GUEST_DIR_ENV } from './helpers/guest.js';

export default async function setup(): Promise<void> {
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
}
