// Build the image only when its source changed or its out path is gone.

import type { DesiredState } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { ReasonCode } from "../reasons.js";
import type { PlannedAction } from "../types.js";

export const planImage = (desired: DesiredState, actual: ActualState): PlannedAction[] => {
  const source = desired.image;
  if (source.kind !== "flake") return [];
  const { record, fingerprint, outPathExists } = actual.image;
  const build = (reason: ReasonCode): PlannedAction[] => [
    { kind: "build-image", site: "", reason, message: `${source.flake}#${source.attribute}` },
  ];
  if (record === undefined) return build("ImageNeverBuilt");
  if (fingerprint !== undefined && record.fingerprint !== fingerprint) return build("ImageChanged");
  if (!outPathExists) return build("ImageMissing");
  return [];
};
