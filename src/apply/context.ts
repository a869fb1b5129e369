// The context every action handler receives.

import type { DesiredState, Site } from "../config/types.js";
import type { EventListener } from "../log/events.js";
import type { Action } from "../plan/actions.js";
import type { StatePaths } from "../state/paths.js";

export interface ApplyOptions {
  /** VMs started or stopped at once. @default 2 */
  vmConcurrency?: number;
  /** How long a guest may take to power off, in milliseconds. @default 30000 */
  powerdownTimeoutMs?: number;
  /** How long QEMU may take to open its QMP socket, in milliseconds. @default 30000 */
  readyTimeoutMs?: number;
  /** Allow starting QEMU as root. @default false */
  allowRoot?: boolean;
  /** Start page of a VM started now, by site, in place of the site's url (`ffvm open URL`); the settings hash stays the site's. */
  startUrls?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

export interface ApplyContext {
  paths: StatePaths;
  desired: DesiredState;
  options: ApplyOptions;
  emit: EventListener;
  site: (name: string) => Site | undefined;
  /** Reports progress of one action. */
  progress: (action: Action, message: string) => void;
}
