import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, readDesiredState } from "../../src/config/index.js";
import { parseSize } from "../../src/config/size.js";

const writeConfig = (text: string | Buffer): string => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-config-"));
  const file = join(dir, "sites.yaml");
  writeFileSync(file, text);
  return file;
};

const errorsOf = async (text: string | Buffer): Promise<string[]> => {
  const file = writeConfig(text);
  try {
    await readDesiredState(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split("\n").map((line) => line.replace(`${file}:`, "sites.yaml:"));
  }
  return [];
};

describe("readDesiredState", () => {
  it("merges defaults into sites", async () => {
    const file = writeConfig("defaults:\n  memory: 1024\nsites:\n  bank:\n    url: https://bank.example\n  mail:\n    url: https://mail.example\n    memory: 4096\n");
    const { desired } = await readDesiredState(file);
    expect(desired.sites.map((site) => [site.name, site.memory, site.cpus, site.diskBytes])).toEqual([
      ["bank", 1024, 2, 4 * 1024 ** 3],
      ["mail", 4096, 2, 4 * 1024 ** 3],
    ]);
  });

  it("resolves paths against the file", async () => {
    const file = writeConfig("sites:\n  a:\n    url: https://a.example\nimage:\n  flake: ./nix\nstateDir: ./state\n");
    const dir = file.replace(/\/sites\.yaml$/, "");
    mkdirSync(join(dir, "nix"));
    writeFileSync(join(dir, "nix", "flake.nix"), "{ outputs = { self }: { }; }\n");
    const { desired } = await readDesiredState(file);
    expect(desired.image).toEqual({ kind: "flake", flake: `${dir}/nix`, attribute: "vm" });
    expect(desired.stateDir).toBe(`${dir}/state`);
  });

  it("changes the settings hash with memory", async () => {
    const one = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n"));
    const two = await readDesiredState(writeConfig("sites:\n  a:\n    url: https://a.example\n    memory: 1024\n"));
    expect(one.desired.sites[0]?.settingsHash).not.toBe(two.desired.sites[0]?.settingsHash);
  });

  it("accepts an empty site list", async () => {
    const { desired } = await readDesiredState(writeConfig("sites: {}\n"));
    expect(desired.sites).toEqual([]);
  });

  it("accepts a byte-order mark", async () => {
    const { desired } = await readDesiredState(writeConfig("\ufeffsites:\n  a:\n    url: https://a.example\n"));
    expect(desired.sites).toHaveLength(1);
  });

  it("reports every error with its place", async () => {
    const errors = await errorsOf("sites:\n  Bank:\n    url: ftp://bank\n  ok:\n    url: https://ok.example\n    memory: lots\n    colour: red\n");
    expect(errors).toEqual([
      'sites.yaml:2:3: sites.Bank: invalid site name "Bank": it contains upper-case letters; use 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit, such as "bank", because the name becomes a file name, a QEMU -name value and a hostname',
      'sites.yaml:3:10: sites.Bank.url: "ftp://bank" has the scheme ftp:, but only http: and https: are allowed; write an http or https URL with a host, such as "https://example.org/"',
      'sites.yaml:6:13: sites.ok.memory: "lots" is a string, not an integer; expected: guest memory in MiB, for example 2048',
      'sites.yaml:7:5: sites.ok.colour: unknown key "colour"; did you mean "color"? allowed keys here: addons, audio, color, cpus, disk, ephemeral, hosts, match, memory, pinned, reset, style, url, vpn',
    ]);
  });

  it("rejects a missing sites key", async () => {
    expect(await errorsOf("defaults:\n  memory: 1024\n")).toEqual([
      'sites.yaml:1:1: missing required key "sites"; expected: the sites, keyed by name. A name becomes a file name, the QEMU -name value and the guest hostname, so it is lower-case letters, digits and dashes, 1 to 63 characters, starting and ending with a letter or digit, for example {"bank":{"url":"https://bank.example","ephemeral":true}}',
    ]);
  });

  it("rejects duplicate site names", async () => {
    expect(await errorsOf("sites:\n  a:\n    url: https://a.example\n  a:\n    url: https://b.example\n")).toEqual([
      'sites.yaml:4:3: sites.a: duplicate key "a", first on line 2; remove or rename one of them, because each key, and so each site name, may appear once',
    ]);
  });

  it("rejects tabs", async () => {
    expect(await errorsOf("sites:\n\ta:\n")).toEqual(["sites.yaml:2:1: tab character used for indentation; indent with spaces, because YAML does not allow tabs there"]);
  });

  it("rejects invalid UTF-8", async () => {
    expect(await errorsOf(Buffer.from("sites:\n  a:\n    url: https://\xff.example\n", "latin1"))).toEqual([
      "sites.yaml:3:18: invalid UTF-8 byte 0xff at byte offset 29; save the file as UTF-8",
    ]);
  });

  it("rejects an unknown vpn", async () => {
    expect(await errorsOf("sites:\n  a:\n    url: https://a.example\n    vpn: home\n")).toEqual([
      'sites.yaml:4:10: sites.a.vpn: VPN "home" is not defined under vpns; add it under vpns: with a wireguard: path',
    ]);
  });

  it("rejects a missing style file", async () => {
    const errors = await errorsOf("sites:\n  a:\n    url: https://a.example\n    style: nope.css\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^sites\.yaml:4:12: sites\.a\.style: style file "nope\.css" not found at \/.*\/nope\.css; create the file or fix the path$/);
  });

  it("warns on a world-readable WireGuard file", async () => {
    const file = writeConfig("vpns:\n  home:\n    wireguard: wg.conf\nsites:\n  a:\n    url: https://a.example\n    vpn: home\n");
    const wireguard = file.replace(/sites\.yaml$/, "wg.conf");
    writeFileSync(wireguard, "[Interface]\nPrivateKey = secret\n");
    chmodSync(wireguard, 0o644);
    const { desired, warnings } = await readDesiredState(file);
    expect(desired.sites[0]?.vpn?.wireguard).toBe(wireguard);
    expect(warnings.map((warning) => warning.message)).toEqual([`WireGuard config ${wireguard} is readable by other users (mode 644)`]);
  });

  it("rejects an alias bomb", async () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let level = 1; level < 9; level++) bomb.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(10).fill(`*${String.fromCharCode(96 + level)}`).join(", ")}]`);
    bomb.push("sites: {}");
    const errors = await errorsOf(`${bomb.join("\n")}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^sites\.yaml:\d+:\d+: [a-z.0-9]+: YAML aliases would add \d+ values to the file, more than the limit of 10000; this alias \*[a-z] passes the limit; /);
  });
});

describe("parseSize", () => {
  it("parses units as powers of 1024", () => {
    expect(parseSize("4G")).toBe(4 * 1024 ** 3);
    expect(parseSize("512M")).toBe(512 * 1024 ** 2);
    expect(parseSize("1.5G")).toBe(1536 * 1024 ** 2);
  });

  it("rejects sizes without a unit", () => {
    expect(parseSize("4")).toBeUndefined();
    expect(parseSize("0G")).toBeUndefined();
  });
});

describe("image checks", () => {
  it("rejects a missing flake", async () => {
    const errors = await errorsOf("sites: {}\nimage:\n  flake: ./nope\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^sites\.yaml:3:10: image\.flake: flake "\.\/nope" not found: \/.*\/nope\/flake\.nix does not exist; point flake: at the directory that holds flake\.nix$/);
  });

  it("rejects a missing runner", async () => {
    const errors = await errorsOf("sites: {}\nimage:\n  runner: ./result/bin/run-ffvm-vm\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^sites\.yaml:3:11: image\.runner: runner "\.\/result\/bin\/run-ffvm-vm" not found at \/.*; build the image/);
  });

  it("leaves the default flake unchecked", async () => {
    const { desired } = await readDesiredState(writeConfig("sites: {}\n"));
    expect(desired.image.kind).toBe("flake");
  });
});
