// Firefox enterprise policies (policies.json) for a site VM.

import { basename } from "node:path";
import type { Site } from "../config/types.js";

/** Where the guest unpacks the site archive; local add-ons are installed from there. */
export const guestSiteDir = "/run/ffvm";

// Extension IDs of common addons.mozilla.org slugs. ExtensionSettings is keyed
// by extension ID, which a slug alone does not give without asking AMO.
const knownExtensionIds: Record<string, string> = {
  "ublock-origin": "uBlock0@raymondhill.net",
  sponsorblock: "sponsorBlocker@ajay.app",
  "privacy-badger17": "jid1-MnnxcxisBPnSXQ@jetpack",
  "multi-account-containers": "@testpilot-containers",
  "bitwarden-password-manager": "{446900e4-71c2-419f-a6a7-df9c091e268b}",
  "decentraleyes": "jid1-BoFifL9Vbdl2zQ@jetpack",
  "clearurls": "{74145f27-f039-47ce-a470-a662b129930a}",
  "darkreader": "addon@darkreader.org",
};

/** Guest file name of a local add-on inside the archive's addons/ folder. */
export const addonMemberName = (path: string, index: number): string =>
  `addons/${index}-${basename(path).replace(/[^A-Za-z0-9._@-]/g, "_")}`;

const amoDownloadUrl = (slug: string): string =>
  `https://addons.mozilla.org/firefox/downloads/latest/${encodeURIComponent(slug)}/latest.xpi`;

/**
 * Builds policies.json. Add-ons with a known ID go through ExtensionSettings
 * (force-installed); others, and local .xpi files, through Extensions.Install,
 * which takes URLs without IDs.
 */
export const buildPolicies = (site: Site): string => {
  const extensionSettings: Record<string, unknown> = {};
  const installUrls: string[] = [];
  site.addons.forEach((addon, index) => {
    if (addon.kind === "file") {
      installUrls.push(`file://${guestSiteDir}/${addonMemberName(addon.path, index)}`);
      return;
    }
    const id = knownExtensionIds[addon.slug];
    if (id === undefined) installUrls.push(amoDownloadUrl(addon.slug));
    else extensionSettings[id] = { installation_mode: "force_installed", install_url: amoDownloadUrl(addon.slug) };
  });

  const policies: Record<string, unknown> = {
    DisableAppUpdate: true,
    DisableFirefoxStudies: true,
    DisableTelemetry: true,
    DontCheckDefaultBrowser: true,
    OverrideFirstRunPage: "",
    OverridePostUpdatePage: "",
    Homepage: { URL: site.url, StartPage: "homepage" },
  };
  if (Object.keys(extensionSettings).length > 0) policies.ExtensionSettings = extensionSettings;
  if (installUrls.length > 0) policies.Extensions = { Install: installUrls };
  return `${JSON.stringify({ policies }, null, 2)}\n`;
};
