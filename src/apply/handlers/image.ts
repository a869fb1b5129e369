import { buildImage } from "../../image/build.js";
import type { Action } from "../../plan/actions.js";
import type { ApplyContext } from "../context.js";

/** build-image: nix build of the flake; on failure the previous image stays in use. */
export const handleBuildImage = async (action: Action, context: ApplyContext): Promise<void> => {
  const source = context.desired.image;
  if (source.kind !== "flake") return;
  const record = await buildImage(source, context.paths, {
    onOutput: (line) => context.progress(action, line),
    signal: context.options.signal,
  });
  context.progress(action, `built ${record.outPath}`);
};
