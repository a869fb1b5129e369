// match:, hosts: and the disposable- name prefix in sites.yaml, and the
// schema's documentation of every key.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, readDesiredState } from "../../src/config/index.js";

const writeConfig = (text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-config-links-"));
  const file = join(dir, "sites.yaml");
  writeFileSync(file, text);
  return file;
};

const problemsOf = async (text: string): Promise<string[]> => {
  const file = writeConfig(text);
  try {
    const { warnings } = await readDesiredState(file);
    return warnings.map((warning) => `${warning.line}:${warning.col}: ${warning.key}: ${warning.message}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => `${problem.line}:${problem.col}: ${problem.key}: ${problem.message}`);
  }
};

describe("match: in sites.yaml", () => {
  it("normalises patterns", async () => {
    const file = writeConfig('sites:\n  gh:\n    url: https://github.com\n    match: ["*.GitHub.com.", "bücher.example:8443"]\n');
    const { desired } = await readDesiredState(file);
    expect(desired.sites[0]?.match).toEqual(["*.github.com", "xn--bcher-kva.example:8443"]);
  });

  it("leaves match undefined without the key", async () => {
    const { desired } = await readDesiredState(writeConfig("sites:\n  gh:\n    url: https://github.com\n"));
    expect(desired.sites[0]?.match).toBeUndefined();
  });

  it("reports an invalid pattern at its place", async () => {
    const problems = await problemsOf('sites:\n  gh:\n    url: https://github.com\n    match:\n      - github.com\n      - "https://gist.github.com/"\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^6:9: sites\.gh\.match(\.1|\[1\]): "https:\/\/gist\.github\.com\/" is not a host pattern/);
  });

  it("warns about a pattern two sites list", async () => {
    const problems = await problemsOf("sites:\n  a:\n    url: https://a.example\n    match: [shared.example]\n  b:\n    url: https://b.example\n    match: [SHARED.example]\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('pattern "shared.example" is also listed by site a, so its links open in a');
  });

  it("rejects a value that is not a list", async () => {
    const problems = await problemsOf("sites:\n  a:\n    url: https://a.example\n    match: a.example\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^4:12: sites\.a\.match: /);
  });

  it("keeps match: out of the settings hash", async () => {
    const plain = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n"));
    const matched = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n    match: [b.example]\n    hosts: [laptop]\n"));
    expect(matched.desired.sites[0]?.settingsHash).toBe(plain.desired.sites[0]?.settingsHash);
  });
});

describe("hosts: in sites.yaml", () => {
  it("stores hosts in lower case", async () => {
    const { desired } = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n    hosts: [Laptop, desk.example.org]\n"));
    expect(desired.sites[0]?.hosts).toEqual(["laptop", "desk.example.org"]);
  });

  it("rejects an empty list and invalid names", async () => {
    expect(await problemsOf("sites:\n  a:\n    url: https://a.example\n    hosts: []\n")).toHaveLength(1);
    const problems = await problemsOf('sites:\n  a:\n    url: https://a.example\n    hosts: ["my host"]\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^4:13: sites\.a\.hosts(\.0|\[0\]): "my host"/);
  });

  it("is not allowed under defaults", async () => {
    const problems = await problemsOf("defaults:\n  hosts: [laptop]\nsites:\n  a:\n    url: https://a.example\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/defaults\.hosts: unknown key/);
  });
});

describe("disposable- names", () => {
  it("rejects a site name with the prefix", async () => {
    const problems = await problemsOf("sites:\n  disposable-1:\n    url: https://a.example\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('site name "disposable-1" starts with "disposable-"');
  });

  it("resolves the settings of defaults for disposable VMs", async () => {
    const { desired } = await readDesiredState(writeConfig("defaults:\n  memory: 1024\n  addons: [ublock-origin]\n  audio: true\nsites: {}\n"));
    expect(desired.siteDefaults).toEqual({
      memory: 1024,
      cpus: 2,
      disk: "4G",
      diskBytes: 4 * 1024 ** 3,
      addons: [{ kind: "amo", slug: "ublock-origin" }],
      audio: true,
    });
  });
});

describe("sites.schema.json", () => {
  type Schema = Record<string, unknown>;
  const schema = JSON.parse(readFileSync(new URL("../../schemas/sites.schema.json", import.meta.url), "utf8")) as Schema;

  const resolve = (node: Schema): Schema => {
    const ref = node.$ref;
    if (typeof ref !== "string") return node;
    const target = ref
      .slice(2)
      .split("/")
      .reduce<unknown>((current, key) => (current as Schema)[key], schema) as Schema;
    return { ...resolve(target), ...node, $ref: undefined };
  };

  // Every key a person can write, with the path it is written at.
  const collectKeys = (node: Schema, path: string, keys: Map<string, Schema>): void => {
    const resolved = resolve(node);
    for (const part of (resolved.allOf as Schema[] | undefined) ?? []) collectKeys(part, path, keys);
    for (const [name, child] of Object.entries((resolved.properties as Record<string, Schema> | undefined) ?? {})) {
      const childPath = `${path}.${name}`;
      keys.set(childPath, resolve(child));
      collectKeys(child, childPath, keys);
    }
    const additional = resolved.additionalProperties;
    if (typeof additional === "object" && additional !== null) collectKeys(additional as Schema, `${path}.<name>`, keys);
  };

  const keys = new Map<string, Schema>();
  collectKeys(schema, "", keys);

  it("lists the keys", () => {
    expect([...keys.keys()]).toEqual(expect.arrayContaining([".sites.<name>.url", ".sites.<name>.match", ".sites.<name>.hosts", ".defaults.memory", ".vpns.<name>.wireguard"]));
  });

  it.each([...keys.keys()])("documents %s", (path) => {
    const node = keys.get(path)!;
    expect(typeof node.description, `${path} has no description`).toBe("string");
    expect(Array.isArray(node.examples), `${path} has no examples`).toBe(true);
    expect((node.examples as unknown[]).length, `${path} has an empty examples list`).toBeGreaterThan(0);
  });
});
