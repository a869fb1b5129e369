import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDesiredState } from "../../src/config/index.js";
import { loadConfig } from "../../src/config/load.js";
import { targetsOfDesired, targetsOfRawConfig } from "../../src/service/references.js";
import { watchPointsOf } from "../../src/service/watcher.js";

const makeDir = (): string => realpathSync(mkdtempSync(join(tmpdir(), "ffvm-refs-")));

const sitesYaml = `defaults:
  addons: [ublock-origin, ./addons/shared.xpi]
sites:
  bank:
    url: https://bank.example
    style: styles/bank.css
    vpn: home
  mail:
    url: https://mail.example
    addons: [./addons/mail.xpi]
vpns:
  home:
    wireguard: ./wg/home.conf
image:
  runner: ./runner
`;

describe("targetsOfDesired", () => {
  it("lists sites.yaml and every file it names", async () => {
    const dir = makeDir();
    for (const file of ["styles/bank.css", "addons/shared.xpi", "addons/mail.xpi", "wg/home.conf", "runner"]) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "x", { mode: 0o600 });
    }
    writeFileSync(join(dir, "sites.yaml"), sitesYaml);
    const { desired } = await readDesiredState(join(dir, "sites.yaml"));
    const targets = targetsOfDesired(desired);
    expect(targets.files.sort()).toEqual(
      ["sites.yaml", "styles/bank.css", "addons/shared.xpi", "addons/mail.xpi", "wg/home.conf", "runner"].map((file) => join(dir, file)).sort(),
    );
    expect(targets.trees).toEqual([]);
  });

  it("watches the image flake as a tree", async () => {
    const dir = makeDir();
    writeFileSync(join(dir, "sites.yaml"), "sites: {}\nimage:\n  flake: ./nix\n");
    mkdirSync(join(dir, "nix"));
    writeFileSync(join(dir, "nix", "flake.nix"), "{ outputs = { self }: { }; }\n");
    const { desired } = await readDesiredState(join(dir, "sites.yaml"));
    expect(targetsOfDesired(desired).trees).toEqual([join(dir, "nix")]);
  });
});

describe("targetsOfRawConfig", () => {
  it("lists files of an invalid config", async () => {
    const dir = makeDir();
    // The style and WireGuard files are missing, so the config is invalid.
    writeFileSync(join(dir, "sites.yaml"), sitesYaml);
    const config = await loadConfig(join(dir, "sites.yaml"));
    const targets = targetsOfRawConfig(config.file, config.data);
    expect(targets.files).toContain(join(dir, "styles/bank.css"));
    expect(targets.files).toContain(join(dir, "wg/home.conf"));
    expect(targets.files).toContain(join(dir, "addons/shared.xpi"));
    expect(targets.files).not.toContain(join(dir, "ublock-origin"));
  });

  it("skips values of the wrong type", () => {
    const targets = targetsOfRawConfig("/c/sites.yaml", { sites: { a: { style: 3, addons: "x.xpi" } }, vpns: [1], image: { flake: 7 } });
    expect(targets.files).toEqual(["/c/sites.yaml"]);
    expect(targets.trees).toEqual(["/c/nix"]);
  });
});

describe("watchPointsOf", () => {
  it("watches a plain file through its directory", () => {
    const dir = makeDir();
    writeFileSync(join(dir, "sites.yaml"), "");
    expect(watchPointsOf(join(dir, "sites.yaml"))).toEqual([[dir, "sites.yaml"]]);
  });

  it("follows a chain of symbolic links", () => {
    const dir = makeDir();
    mkdirSync(join(dir, "repo"));
    mkdirSync(join(dir, "config"));
    writeFileSync(join(dir, "repo", "sites.yaml"), "");
    symlinkSync("../repo/sites.yaml", join(dir, "config", "middle.yaml"));
    symlinkSync(join(dir, "config", "middle.yaml"), join(dir, "sites.yaml"));
    expect(watchPointsOf(join(dir, "sites.yaml"))).toEqual([
      [dir, "sites.yaml"],
      [join(dir, "config"), "middle.yaml"],
      [join(dir, "repo"), "sites.yaml"],
    ]);
  });

  it("watches the nearest existing ancestor of a missing path", () => {
    const dir = makeDir();
    expect(watchPointsOf(join(dir, "styles", "deep", "a.css"))).toEqual([[dir, "styles"]]);
  });
});
