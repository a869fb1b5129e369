// The one fw_cfg entry a VM receives: a tar archive of everything its site needs.

import { readFile } from "node:fs/promises";
import type { Site } from "../config/types.js";
import { buildTar, type TarMember } from "../qemu/tar.js";
import { addonMemberName, buildPolicies } from "./policies.js";
import { buildUserChrome } from "./user-chrome.js";

/** fw_cfg name of the site archive; the guest reads /sys/firmware/qemu_fw_cfg/by_name/<name>/raw. */
export const siteFwCfgName = "opt/ffvm/site";

/**
 * Builds the site archive. Files named in sites.yaml, the WireGuard config
 * among them, are read now, at each start, so their contents never reach
 * records or logs. `startUrl` replaces site.url as the page opened at start.
 */
export const buildSiteArchive = async (site: Site, startUrl?: string): Promise<Buffer> => {
  const text = (value: string): Uint8Array => Buffer.from(value, "utf8");
  const members: TarMember[] = [
    { name: "url", content: text(startUrl ?? site.url) },
    { name: "name", content: text(site.name) },
    { name: "policies.json", content: text(buildPolicies(site)) },
  ];

  const styleText = site.style === undefined ? undefined : await readFile(site.style, "utf8");
  const userChrome = buildUserChrome(site, styleText);
  if (userChrome !== undefined) members.push({ name: "userChrome.css", content: text(userChrome) });

  if (site.vpn !== undefined) members.push({ name: "wireguard.conf", content: await readFile(site.vpn.wireguard) });

  for (const [index, addon] of site.addons.entries()) {
    if (addon.kind === "file") members.push({ name: addonMemberName(addon.path, index), content: await readFile(addon.path) });
  }
  return buildTar(members);
};
