// Evaluates nix/modules/service.nix (NixOS) and nix/modules/home-manager.nix
// with nix-instantiate and a stand-in for the few nixpkgs lib functions they
// call, since nixpkgs itself is not available offline. This checks the
// generated unit settings and ExecStart= quoting; the option types are
// checked only by a real NixOS or home-manager evaluation.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const modulePath = (name: string): string => fileURLToPath(new URL(`../../nix/modules/${name}`, import.meta.url));

// Stand-ins with the behaviour of their nixpkgs namesakes for these inputs.
const stubs = `
  lib = {
    mkEnableOption = description: { inherit description; };
    mkOption = option: option;
    mkIf = condition: value: if condition then value else { };
    optionals = condition: list: if condition then list else [ ];
    concatMapStringsSep = separator: f: list: builtins.concatStringsSep separator (map f list);
    concatStringsSep = builtins.concatStringsSep;
    replaceStrings = builtins.replaceStrings;
    getExe = package: "\${package}/bin/ffvm";
    makeBinPath = packages: builtins.concatStringsSep ":" (map (package: "\${package}/bin") packages);
    literalExpression = text: { inherit text; };
    types = { package = "package"; str = "str"; nullOr = type: "nullOr \${type}"; };
  };
  pkgs = { passt = "/nix/store/passt"; coreutils = "/nix/store/coreutils"; };
`;

const evaluate = (module: string, services: string, attribute: string): unknown => {
  const expression = `
    let
      ${stubs}
      config = {
        services.ffvm = { enable = true; package = "/nix/store/ffvm"; healSchedule = "*/2 * * * *"; } // ${services};
        nix.package = "/nix/store/nix";
        xdg.configHome = "/home/alice/.config";
      };
      result = import ${JSON.stringify(module)} { inherit config lib pkgs; };
    in result.config.${attribute}`;
  const result = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", "--expr", expression], { encoding: "utf8", timeout: 30_000 });
  if (result.error !== undefined) throw new Error(`nix-instantiate could not be started: ${result.error.message}. Install Nix (Debian package nix-bin).`);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as unknown;
};

describe("NixOS module services.ffvm", () => {
  let unit: Record<string, unknown>;
  let service: Record<string, unknown>;
  beforeAll(() => {
    unit = evaluate(modulePath("service.nix"), `{ sitesFile = "%h/dot files/sites.yaml"; }`, "systemd.user.services.ffvm") as Record<string, unknown>;
    service = unit.serviceConfig as Record<string, unknown>;
  });

  it("runs ffvm watch with quoted arguments", () => {
    expect(service.ExecStart).toBe('"/nix/store/ffvm/bin/ffvm" "watch" "--heal-schedule" "*/2 * * * *" "--config" "%h/dot files/sites.yaml"');
  });

  it("starts with the graphical session", () => {
    expect(unit.partOf).toEqual(["graphical-session.target"]);
    expect(unit.after).toEqual(["graphical-session.target"]);
    expect(unit.wantedBy).toEqual(["graphical-session.target"]);
  });

  it("keeps VMs alive when the service stops", () => {
    expect(service.KillMode).toBe("process");
  });

  it("puts nix and passt on the PATH", () => {
    expect(unit.path).toEqual(["/nix/store/nix", "/nix/store/passt"]);
  });

  it("leaves out --config without sitesFile", () => {
    const plain = evaluate(modulePath("service.nix"), `{ sitesFile = null; }`, "systemd.user.services.ffvm.serviceConfig.ExecStart");
    expect(plain).toBe('"/nix/store/ffvm/bin/ffvm" "watch" "--heal-schedule" "*/2 * * * *"');
  });

  it("defines nothing when disabled", () => {
    expect(evaluate(modulePath("service.nix"), `{ enable = false; sitesFile = null; }`, "systemd or { }")).toEqual({});
  });
});

describe("home-manager module services.ffvm", () => {
  let unit: { Unit: Record<string, unknown>; Service: Record<string, unknown>; Install: Record<string, unknown> };
  beforeAll(() => {
    unit = evaluate(modulePath("home-manager.nix"), `{ sitesFile = "/home/alice/.config/ffvm/sites.yaml"; }`, "systemd.user.services.ffvm") as typeof unit;
  });

  it("runs ffvm watch with quoted arguments", () => {
    expect(unit.Service.ExecStart).toBe('"/nix/store/ffvm/bin/ffvm" "watch" "--config" "/home/alice/.config/ffvm/sites.yaml" "--heal-schedule" "*/2 * * * *"');
  });

  it("starts with the graphical session", () => {
    expect(unit.Unit.PartOf).toEqual(["graphical-session.target"]);
    expect(unit.Unit.After).toEqual(["graphical-session.target"]);
    expect(unit.Install.WantedBy).toEqual(["graphical-session.target"]);
  });

  it("keeps VMs alive when the service stops", () => {
    expect(unit.Service.KillMode).toBe("process");
  });

  it("sets a PATH with passt first", () => {
    expect((unit.Service.Environment as string[])[0]).toMatch(/^PATH=\/nix\/store\/passt\/bin:/);
  });
});
