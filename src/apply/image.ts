// The image a VM starts from: the runner to exec and the id recorded with the VM.

import type { ImageSource } from "../config/types.js";
import { fingerprintRunner } from "../image/fingerprint.js";
import type { StatePaths } from "../state/paths.js";
import { readImageRecord } from "../state/records.js";
import { existsSync } from "node:fs";

export interface ImageInUse {
  runner: string;
  id: string;
}

/**
 * Returns the image to start VMs from: the prebuilt runner, or the last
 * successful build. After a failed build that is the previous image, so sites
 * go on with it.
 */
export const resolveImageInUse = async (source: ImageSource, paths: StatePaths): Promise<ImageInUse> => {
  if (source.kind === "runner") {
    if (!existsSync(source.runner)) throw new Error(`runner ${source.runner} not found; fix image.runner in sites.yaml`);
    return { runner: source.runner, id: fingerprintRunner(source.runner) };
  }
  const record = await readImageRecord(paths);
  if (record === undefined || !existsSync(record.runner)) {
    throw new Error("no image has been built yet; fix the image build error and reconcile again");
  }
  return { runner: record.runner, id: record.outPath };
};
