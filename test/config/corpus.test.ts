// The bad-config corpus read in-process by readDesiredState: each broken
// sites.yaml gives exactly the problems of its .expected file (the stderr of
// the CLI without its closing summary line), in bounded time.

import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, readDesiredState } from "../../src/config/index.js";
import { prepareCorpus, type CorpusCase } from "../fixtures/bad-config/corpus.js";

const { dir, cases } = prepareCorpus();

const summaryPrefix = "ffvm: ";

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const readError = async (file: string): Promise<ConfigError> => {
  try {
    await readDesiredState(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${file} was accepted`);
};

describe("bad-config corpus", () => {
  it("contains at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)("$name gives its expected problems", async ({ file, expected }: CorpusCase) => {
    const error = await readError(file);
    const problemLines = expected.filter((line) => !line.startsWith(summaryPrefix));
    expect(error.message.split("\n")).toEqual(problemLines);

    const errorCount = error.problems.filter((problem) => problem.severity === "error").length;
    expect(expected.at(-1)).toBe(`ffvm: ${errorCount} ${errorCount === 1 ? "error" : "errors"} in ${file}; nothing was changed`);
  });

  it.each(cases)("$name names a place in every problem", async ({ file }: CorpusCase) => {
    const error = await readError(file);
    for (const problem of error.problems) {
      expect(problem.file).toBe(file);
      expect(problem.line).toBeGreaterThanOrEqual(0);
      if (problem.line > 0) expect(problem.col).toBeGreaterThan(0);
      expect(problem.message).not.toBe("");
      expect(problem.fix ?? "").not.toBe("");
    }
  });

  // A generous bound, far above the times measured in a fresh process by
  // test/e2e/bad-config.test.ts. It still catches a step whose time grows
  // with the square of the file, or with the expansion of its aliases.
  it.each(["67-alias-bomb", "90-big-file", "91-deep-brackets", "94-too-many-tokens", "95-many-invalid-sites", "96-most-tokens"])("%s fails within 3 s", async (name) => {
    const file = join(dir, `${name}.yaml`);
    const start = performance.now();
    await readError(file);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});

describe("files outside the corpus", () => {
  beforeAll(() => {
    writeFileSync(join(dir, "wg-shared.conf"), "[Interface]\nPrivateKey = not-a-real-key\n");
    chmodSync(join(dir, "wg-shared.conf"), 0o644);
  });

  it("accepts a UTF-8 byte-order mark", async () => {
    const file = join(dir, "bom.yaml");
    writeFileSync(file, "\ufeffsites:\n  bank:\n    url: https://bank.example\n");
    const { desired } = await readDesiredState(file);
    expect(desired.sites.map((site) => site.name)).toEqual(["bank"]);
  });

  it("counts columns after a byte-order mark from the first character", async () => {
    const file = join(dir, "bom-error.yaml");
    writeFileSync(file, "\ufeffsites:\n  Bank:\n    url: https://bank.example\n");
    const error = await readError(file);
    expect(error.problems.map((problem) => [problem.line, problem.col, problem.key])).toEqual([[2, 3, "sites.Bank"]]);
  });

  it("accepts a world-readable WireGuard file with a warning", async () => {
    const file = join(dir, "warning-only.yaml");
    writeFileSync(file, "vpns:\n  home:\n    wireguard: ./wg-shared.conf\nsites:\n  bank:\n    url: https://bank.example\n    vpn: home\n");
    const { desired, warnings } = await readDesiredState(file);
    expect(desired.sites[0]?.vpn?.name).toBe("home");
    expect(warnings.map((warning) => [warning.severity, warning.line, warning.col, warning.key])).toEqual([["warning", 3, 16, "vpns.home.wireguard"]]);
  });

  it("accepts the core schema tags", async () => {
    const file = join(dir, "core-tags.yaml");
    writeFileSync(file, "sites:\n  bank: !!map\n    url: !!str https://bank.example\n    memory: !!int 1024\n");
    const { desired } = await readDesiredState(file);
    expect(desired.sites[0]?.memory).toBe(1024);
  });

  it("accepts anchors and aliases within the limit", async () => {
    const file = join(dir, "aliases.yaml");
    writeFileSync(file, "sites:\n  bank:\n    url: https://bank.example\n    addons: &common [ublock-origin, sponsorblock]\n  mail:\n    url: https://mail.example\n    addons: *common\n");
    const { desired } = await readDesiredState(file);
    expect(desired.sites.map((site) => site.addons.length)).toEqual([2, 2]);
  });
});
