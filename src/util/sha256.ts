// SHA-256 through node's crypto module, loaded on first use: loading it
// costs about 3 ms, and a reconcile with nothing to do hashes nothing when
// the image is a prebuilt runner.

import { createRequire } from "node:module";
import type { Hash } from "node:crypto";

let crypto: typeof import("node:crypto") | undefined;

/** Returns a new SHA-256 hash. */
export const createSha256 = (): Hash => {
  crypto ??= createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return crypto.createHash("sha256");
};
