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
  /** Hash of every value the VM receives at start; a change makes a running VM outdated. */
  settingsHash: string;
}

/** Where the VM image comes from. */
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
}
