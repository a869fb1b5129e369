// Runs ffvm reconcile and ffvm validate, the built executable, on every
// broken sites.yaml of the bad-config corpus. Each must exit 1 with exactly
// the expected stderr and nothing on stdout. None may change a name, a byte,
// a mode or a modification time in the state directory, or create a state
// directory. Needs `npx tsc -p tsconfig.build.json` and qemu-img.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareCorpus, type CorpusCase } from "../fixtures/bad-config/corpus.js";
import { ffvmBin, runFfvm, type CliResult } from "../helpers/cli.js";

const { dir: corpusDir, cases } = prepareCorpus();
const work = mkdtempSync(join(tmpdir(), "ffvm-bad-config-e2e-"));

afterAll(() => {
  rmSync(corpusDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

// Every directory ffvm could fall back to when it ignores --state-dir or
// --config, so that a write there is seen too.
const home = join(work, "home");
const env = {
  HOME: home,
  XDG_STATE_HOME: join(home, "state"),
  XDG_CONFIG_HOME: join(home, "config"),
  XDG_RUNTIME_DIR: join(home, "run"),
  XDG_CACHE_HOME: join(home, "cache"),
};

interface Entry {
  path: string;
  kind: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  mtimeMs: number;
  sha256?: string;
}

// Lists every entry below root with what a change would touch: name, kind,
// mode, size, modification time and, for files, a hash of the contents.
const snapshot = (root: string): Entry[] => {
  const entries: Entry[] = [];
  const visit = (path: string): void => {
    const stats = lstatSync(path);
    const kind = stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "file";
    const entry: Entry = { path: relative(root, path), kind, mode: stats.mode, size: stats.size, mtimeMs: stats.mtimeMs };
    if (kind === "file") entry.sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
    entries.push(entry);
    if (kind === "directory") for (const name of readdirSync(path).sort()) visit(join(path, name));
  };
  visit(root);
  return entries;
};

// A state directory as a reconcile leaves it: a qcow2 disk and a VM record
// of the site "fake", which no corpus file names, so a reconcile that went
// ahead would stop its VM and move its disk to trash.
const makeStateTemplate = (root: string): void => {
  for (const folder of ["disks", "run", "vms", "trash"]) mkdirSync(join(root, folder), { recursive: true, mode: 0o700 });
  const disk = join(root, "disks", "fake.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"]);
  const record = {
    version: 1,
    site: "fake",
    pid: 2 ** 22 + 1,
    startTime: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    imageId: "image-1",
    settingsHash: "0123456789abcdef",
    settings: { url: "https://fake.example/", memory: 256, cpus: 1, audio: false, vpn: null },
    disk,
    ephemeral: false,
  };
  writeFileSync(join(root, "vms", "fake.json"), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
};

// Cases that fail at each stage of reading sites.yaml: reading the bytes,
// decoding, lexing, parsing, loading, the schema and the file checks. The
// CLI reads sites.yaml the same way for all cases, so these stand for the
// rest in the check that no state directory is created.
const freshStateCases = new Set([
  "90-big-file",
  "76-invalid-utf8",
  "94-too-many-tokens",
  "04-unclosed-bracket",
  "24-duplicate-site",
  "80-top-empty",
  "11-types-defaults",
  "63-style-missing",
  "66-warning-and-error",
]);

interface CaseRun {
  reconcile: CliResult;
  validate: CliResult;
  /** reconcile with --state-dir naming a directory that does not exist; run for freshStateCases only. */
  reconcileFresh?: CliResult;
  stateBefore: Entry[];
  stateAfter: Entry[];
  freshDir: string;
}

const runCase = async (testCase: CorpusCase): Promise<CaseRun> => {
  const caseDir = join(work, testCase.name);
  const state = join(caseDir, "state");
  const freshDir = join(caseDir, "fresh-state");
  cpSync(join(work, "template"), state, { recursive: true, preserveTimestamps: true });
  const stateBefore = snapshot(state);
  const options = { env, cwd: caseDir };
  const [reconcile, validate, reconcileFresh] = await Promise.all([
    runFfvm(["reconcile", "--config", testCase.file, "--state-dir", state], options),
    runFfvm(["validate", "--config", testCase.file], options),
    freshStateCases.has(testCase.name) ? runFfvm(["reconcile", "--config", testCase.file, "--state-dir", freshDir], options) : undefined,
  ]);
  const run: CaseRun = { reconcile, validate, stateBefore, stateAfter: snapshot(state), freshDir };
  if (reconcileFresh !== undefined) run.reconcileFresh = reconcileFresh;
  return run;
};

// Runs one case per CPU at a time; each case starts two or three processes.
const runAll = async (): Promise<Map<string, CaseRun>> => {
  const runs = new Map<string, CaseRun>();
  const queue = [...cases];
  const workers = Array.from({ length: availableParallelism() }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) runs.set(next.name, await runCase(next));
  });
  await Promise.all(workers);
  return runs;
};

const stderrLines = (result: CliResult): string[] => result.stderr.split("\n");

describe("ffvm on the bad-config corpus", () => {
  let runs = new Map<string, CaseRun>();
  let homeBefore: Entry[] = [];

  beforeAll(async () => {
    for (const folder of Object.values(env)) mkdirSync(folder, { recursive: true });
    makeStateTemplate(join(work, "template"));
    for (const testCase of cases) mkdirSync(join(work, testCase.name));
    homeBefore = snapshot(home);
    runs = await runAll();
  }, 600_000);

  const runOf = (name: string): CaseRun => {
    const run = runs.get(name);
    if (run === undefined) throw new Error(`${name} did not run`);
    return run;
  };

  it("covers at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  describe.each(cases)("$name", (testCase: CorpusCase) => {
    it("fails reconcile with the expected stderr", () => {
      const { reconcile } = runOf(testCase.name);
      expect(stderrLines(reconcile)).toEqual(testCase.expected);
      expect(reconcile.stdout).toBe("");
      expect(reconcile.exitCode).toBe(1);
    });

    it("fails validate with the expected stderr", () => {
      const { validate } = runOf(testCase.name);
      expect(stderrLines(validate)).toEqual(testCase.expected);
      expect(validate.stdout).toBe("");
      expect(validate.exitCode).toBe(1);
    });

    it("leaves the state directory unchanged", () => {
      const { stateBefore, stateAfter } = runOf(testCase.name);
      expect(stateAfter).toEqual(stateBefore);
    });

  });

  describe.each(cases.filter((testCase) => freshStateCases.has(testCase.name)))("$name with a fresh state directory", (testCase: CorpusCase) => {
    it("fails reconcile and creates no state directory", () => {
      const { reconcileFresh, freshDir } = runOf(testCase.name);
      expect(stderrLines(reconcileFresh!)).toEqual(testCase.expected);
      expect(reconcileFresh!.exitCode).toBe(1);
      expect(existsSync(freshDir)).toBe(false);
    });
  });

  it("runs the fresh state directory check on cases that exist", () => {
    const names = new Set(cases.map((testCase) => testCase.name));
    expect([...freshStateCases].filter((name) => !names.has(name))).toEqual([]);
  });

  it("writes nothing to the home and XDG directories", () => {
    expect(snapshot(home)).toEqual(homeBefore);
  });
});

describe("ffvm validate on files outside the corpus", () => {
  it("accepts a world-readable WireGuard file with a warning", async () => {
    const file = join(corpusDir, "warning-only.yaml");
    writeFileSync(file, "vpns:\n  home:\n    wireguard: ./wg-world-readable.conf\nsites:\n  bank:\n    url: https://bank.example\n    vpn: home\n");
    const wireguard = join(corpusDir, "wg-world-readable.conf");
    const result = await runFfvm(["validate", "--config", file], { env });
    expect(stderrLines(result)).toEqual([
      `${file}:3:16: warning: vpns.home.wireguard: WireGuard config ${wireguard} is readable by other users (mode 644); run chmod 600 ${wireguard}`,
    ]);
    expect(result.stdout).toBe(`${file}: valid, 1 site`);
    expect(result.exitCode).toBe(0);
  });

  it("accepts a UTF-8 byte-order mark", async () => {
    const file = join(corpusDir, "bom.yaml");
    writeFileSync(file, "\ufeffsites:\n  bank:\n    url: https://bank.example\n");
    const result = await runFfvm(["validate", "--config", file], { env });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${file}: valid, 1 site`);
    expect(result.exitCode).toBe(0);
  });
});

// Time and peak memory of reading each large or hostile file, measured in a
// fresh Node process so that the numbers are its own. The bounds are far
// above the measured values, but they catch unbounded growth, such as a
// parser that expands an alias bomb or recurses once per bracket.
describe("reading hostile files", () => {
  const measureScript = [
    `import { readDesiredState } from ${JSON.stringify(new URL("../config/index.js", pathToFileURL(ffvmBin)).href)};`,
    "const start = performance.now();",
    "let outcome = 'accepted';",
    "try { await readDesiredState(process.argv[1]); } catch (error) { outcome = error.name; }",
    "console.log(JSON.stringify({ outcome, ms: Math.round(performance.now() - start), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));",
  ].join("\n");

  it.each(["67-alias-bomb", "90-big-file", "91-deep-brackets", "92-deep-indentation", "94-too-many-tokens", "95-many-invalid-sites", "96-most-tokens"])(
    "%s fails within 3 s and 256 MiB",
    async (name) => {
      const file = join(corpusDir, `${name}.yaml`);
      const { stdout } = await execa("node", ["--input-type=module", "-e", measureScript, file], { env: { ...process.env, ...env } });
      const measured = JSON.parse(stdout) as { outcome: string; ms: number; maxRssMiB: number };
      console.log(`${name}: ${lstatSync(file).size} bytes, ${measured.ms} ms, peak RSS ${measured.maxRssMiB} MiB`);
      expect(measured.outcome).toBe("ConfigError");
      expect(measured.ms).toBeLessThan(3000);
      expect(measured.maxRssMiB).toBeLessThan(256);
    },
  );
});
