// The desired state: sites.yaml after validation, with defaults merged,
// sizes parsed and every path made absolute.

/** A Firefox add-on, from addons.mozilla.org or from a local .xpi file. */
export type Addon =
  | { kind: "amo"; slug: string }
  | { kind: "file"; path: string };

/** A WireGuard VPN. The config file is read at each VM start, never stored. */
export interface Vpn {
  name: string;
  /** Absolute path of the wg-quick config file. */
  wireguard: string;
}

/** One site of sites.yaml with every default resolved. */
export interface Site {
  name: string;
  url: string;
  /** Guest memory in MiB. */
  memory: number;
  cpus: number;
  /** Virtual disk size in bytes. */
  diskBytes: number;
  /** The disk size as written in sites.yaml, for messages. */
  disk: string;
  pinned: boolean;
  ephemeral: boolean;
  addons: Addon[];
  /** Absolute path of a userChrome.css file. */
  style?: string;
  color?: string;
  audio: boolean;
  vpn?: Vpn;
  /** Cron expression (node-cron syntax) of the scheduled disk resets that `ffvm watch` carries out. */
  reset?: string;
  /** Hash of every value the VM receives at start; a change makes a running VM outdated. */
  settingsHash: string;
  /** Host patterns of `match:` in normal form (see src/links/match.ts); links to them open in this site. */
  match?: string[];
  /** Host names of the machines the site runs on, lower case; undefined runs it on every machine. */
  hosts?: string[];
  /** A VM that `ffvm open URL` started for a link that matches no site; never read from sites.yaml. */
  disposable?: boolean;
}

/** The settings of `defaults:` merged over the built-in values; disposable VMs start with them. */
export type SiteSettings = Pick<Site, "memory" | "cpus" | "diskBytes" | "disk" | "addons" | "style" | "color" | "audio" | "vpn">;

/** The source of the VM image. */
export type ImageSource =
  | { kind: "flake"; flake: string; attribute: string }
  | { kind: "runner"; runner: string };

export interface DesiredState {
  /** Absolute path of the sites.yaml this state was read from. */
  configFile: string;
  /** Sites sorted by name. */
  sites: Site[];
  image: ImageSource;
  /** State directory named in sites.yaml, absolute, if any. */
  stateDir?: string;
  /** Settings of a site that sets nothing itself; absent in states not read from sites.yaml. */
  siteDefaults?: SiteSettings;
}
