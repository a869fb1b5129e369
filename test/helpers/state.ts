// Builders of desired and actual state for plan tests.

import type { DesiredState, Site } from "../../src/config/types.js";
import type { ActualState, ObservedVm } from "../../src/observe/types.js";
import type { VmRecord } from "../../src/state/records.js";

const gib = 1024 ** 3;

export const makeSite = (name: string, overrides: Partial<Site> = {}): Site => ({
  name,
  url: `https://${name}.example/`,
  memory: 2048,
  cpus: 2,
  diskBytes: 4 * gib,
  disk: "4G",
  pinned: false,
  ephemeral: false,
  addons: [],
  audio: false,
  settingsHash: `hash-${name}`,
  ...overrides,
});

export const makeDesired = (sites: Site[], image: DesiredState["image"] = { kind: "runner", runner: "/runner" }): DesiredState => ({
  configFile: "/config/sites.yaml",
  sites,
  image,
});

/** Fake actual state, built up with chained calls. */
export class FakeActual {
  readonly state: ActualState = {
    disks: new Map(),
    vms: new Map(),
    image: { outPathExists: true, currentId: "image-1", fingerprint: "image-1" },
    trash: [],
    problems: [],
  };

  disk(site: string, bytes = 4 * gib): this {
    this.state.disks.set(site, { site, path: `/state/disks/${site}.qcow2`, virtualSize: bytes });
    return this;
  }

  running(site: Site | string, record: Partial<VmRecord> = {}): this {
    this.state.vms.set(typeof site === "string" ? site : site.name, this.#vm(site, "running", record));
    return this;
  }

  dead(site: Site | string, record: Partial<VmRecord> = {}): this {
    this.state.vms.set(typeof site === "string" ? site : site.name, this.#vm(site, "dead", record));
    return this;
  }

  trash(site: string, trashedAt: Date): this {
    this.state.trash.push({ site, file: `/state/trash/${site}.qcow2`, trashedAt });
    return this;
  }

  image(image: ActualState["image"]): this {
    this.state.image = image;
    return this;
  }

  #vm(site: Site | string, state: ObservedVm["state"], record: Partial<VmRecord>): ObservedVm {
    const name = typeof site === "string" ? site : site.name;
    const settingsHash = typeof site === "string" ? `hash-${site}` : site.settingsHash;
    const full: VmRecord = {
      version: 1,
      site: name,
      pid: 4242,
      startTime: 1,
      startedAt: "2026-12-01T00:00:00.000Z",
      imageId: "image-1",
      settingsHash,
      disk: `/state/disks/${name}.qcow2`,
      ephemeral: false,
      ...record,
    };
    return { site: name, record: full, state, pid: full.pid };
  }
}
