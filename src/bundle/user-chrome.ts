// userChrome.css for a site VM: the site's own style, then its colour label.

import type { Site } from "../config/types.js";

/** Builds userChrome.css from the style file's text and the site's colour; undefined when neither is set. */
export const buildUserChrome = (site: Site, styleText: string | undefined): string | undefined => {
  if (styleText === undefined && site.color === undefined) return undefined;
  const parts: string[] = [];
  if (styleText !== undefined) parts.push(styleText.endsWith("\n") ? styleText : `${styleText}\n`);
  if (site.color !== undefined) {
    // The colour is validated as #rrggbb, so it cannot break out of the rule.
    parts.push(`/* ffvm colour label of ${site.name} */\n#navigator-toolbox { border-top: 4px solid ${site.color} !important; }\n`);
  }
  return parts.join("\n");
};
