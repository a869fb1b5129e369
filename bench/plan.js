// plan() in process: the median time for 10 000 sites, and how the cost per
// site changes as the number of sites doubles (linear growth keeps it flat).

import { plan } from "../dist/plan/index.js";
import { median } from "./measure.js";

const gib = 1024 ** 3;

// Every site has its disk and half of them run, so plan() visits every rule
// and finds nothing to do, as in a no-op reconcile.
const makeStates = (count) => {
  const sites = [];
  const disks = new Map();
  const vms = new Map();
  for (let index = 0; index < count; index++) {
    const name = `site-${index}`;
    const site = { name, url: `https://${name}.example/`, memory: 2048, cpus: 2, diskBytes: 4 * gib, disk: "4G", pinned: index % 2 === 0, ephemeral: false, addons: [], audio: false, settingsHash: `h${index}` };
    sites.push(site);
    disks.set(name, { site: name, path: `/state/disks/${name}.qcow2`, virtualSize: 4 * gib });
    if (site.pinned) {
      const record = { version: 1, site: name, pid: 1000 + index, startTime: 1, startedAt: "", imageId: "image", settingsHash: site.settingsHash, disk: "", ephemeral: false };
      vms.set(name, { site: name, record, state: "running", pid: record.pid });
    }
  }
  const desired = { configFile: "/sites.yaml", sites, image: { kind: "runner", runner: "/runner" } };
  const actual = { disks, vms, image: { outPathExists: true, currentId: "image", fingerprint: "image" }, trash: [], problems: [] };
  return { desired, actual };
};

const timePlan = (count, runs) => {
  const { desired, actual } = makeStates(count);
  const now = new Date();
  const times = [];
  for (let run = 0; run < runs + 3; run++) {
    const started = process.hrtime.bigint();
    const result = plan(desired, actual, { now });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.actions.length !== 0) throw new Error(`plan of ${count} matching sites contains ${result.actions.length} actions`);
    if (run >= 3) times.push(elapsed);
  }
  return median(times);
};

export const benchPlan = ({ runs }) => {
  const counts = [1250, 2500, 5000, 10_000, 20_000];
  const medians = counts.map((count) => timePlan(count, runs));
  const perSite = medians.map((ms, index) => ms / counts[index]);
  const lines = counts.map((count, index) => `plan() ${String(count).padStart(6)} sites: median ${medians[index].toFixed(2)} ms, ${(perSite[index] * 1000).toFixed(2)} µs per site`);
  const tenThousand = medians[counts.indexOf(10_000)];
  lines.push(`plan() 10 000 sites median ${tenThousand.toFixed(1)} ms  (target < 50 ms: ${tenThousand < 50 ? "met" : "MISSED"})`);
  const growth = perSite.at(-1) / perSite[0];
  lines.push(`plan() cost per site, 20 000 / 1 250 sites: ${growth.toFixed(2)}×  (linear growth keeps this near 1; target ≤ 1.5×: ${growth <= 1.5 ? "met" : "MISSED"})`);
  return lines;
};
