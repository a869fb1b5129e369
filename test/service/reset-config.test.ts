import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, readDesiredState } from "../../src/config/index.js";

const writeConfig = (text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), "ffvm-reset-")), "sites.yaml");
  writeFileSync(file, text);
  return file;
};

const errorLines = async (file: string): Promise<string[]> => {
  try {
    await readDesiredState(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n").map((line) => line.replace(`${file}:`, "sites.yaml:"));
    throw error;
  }
  return [];
};

describe("reset: in sites.yaml", () => {
  it("reaches the site, also from defaults", async () => {
    const file = writeConfig("defaults:\n  reset: \"0 4 * * *\"\nsites:\n  a:\n    url: https://a.example\n  b:\n    url: https://b.example\n    reset: \"*/30 * * * * *\"\n");
    const { desired } = await readDesiredState(file);
    expect(desired.sites.map((site) => [site.name, site.reset])).toEqual([
      ["a", "0 4 * * *"],
      ["b", "*/30 * * * * *"],
    ]);
  });

  it("does not change the settings hash", async () => {
    const plain = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n"));
    const withReset = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n    reset: \"0 4 * * *\"\n"));
    expect(withReset.desired.sites[0]?.settingsHash).toBe(plain.desired.sites[0]?.settingsHash);
  });

  it("reports an invalid expression with its place", async () => {
    const lines = await errorLines(writeConfig("sites:\n  a:\n    url: https://a.example\n    reset: \"61 4 * * *\"\n"));
    expect(lines).toEqual([
      'sites.yaml:4:12: sites.a.reset: invalid cron expression "61 4 * * *": 61 is a invalid expression for minute; write minute hour day-of-month month day-of-week, such as "0 4 * * *" for 04:00 every day',
    ]);
  });

  it("reports an invalid default once", async () => {
    const lines = await errorLines(writeConfig("defaults:\n  reset: daily\nsites:\n  a:\n    url: https://a.example\n  b:\n    url: https://b.example\n"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sites\.yaml:2:10: defaults\.reset: invalid cron expression "daily": expected 5 or 6 fields but got 1/);
  });

  it("rejects a value of the wrong type", async () => {
    const lines = await errorLines(writeConfig("sites:\n  a:\n    url: https://a.example\n    reset: 4\n"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sites\.yaml:4:12: sites\.a\.reset: 4 .*string/);
  });
});
