# ffvm itself, built from the repository root (../) with buildNpmPackage.
#
# The npm dependencies come from package-lock.json through importNpmLock, which
# fetches every package by the integrity hash in the lock file, so there is no
# npmDepsHash to update. ../ exists only when the flake is a git flake, as
# docs/image.md explains.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs,
  qemu_kvm,
  passt,
}:

let
  root = ../.;
  package = lib.importJSON (root + "/package.json");

  # npm's default registry, where the lock file's packages come from.
  registry = "https://registry.npmjs.org";

  # The URL npm downloads a registry package from, for example
  # https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.28.2.tgz. The
  # package name is the lock entry's "name" (set for an alias) or the part of
  # the key after its last "node_modules/".
  registryTarballUrl =
    key: entry:
    let
      name = entry.name or (lib.last (lib.splitString "node_modules/" key));
      baseName = lib.last (lib.splitString "/" name);
    in
    "${registry}/${name}/-/${baseName}-${entry.version}.tgz";

  # This repository's package-lock.json has no "resolved" fields, because npm
  # omits them under its omit-lockfile-registry-resolved setting and derives the
  # URL from the registry instead. importNpmLock fetches only entries that have
  # "resolved", so the registry URL is filled in here the same way. The root
  # entry (key ""), workspace links and bundled packages (no "integrity") are
  # not fetched and stay as they are.
  addRegistryUrls =
    lock:
    lock
    // {
      packages = lib.mapAttrs (
        key: entry:
        if key == "" || entry ? resolved || entry ? link || !(entry ? integrity) then
          entry
        else
          entry // { resolved = registryTarballUrl key entry; }
      ) lock.packages;
    };

  # Only the files the build reads, so that an edit elsewhere in the repository
  # does not rebuild the package. nix/ is included because package.json lists
  # it under "files", so the installed package carries the image flake.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/package.json")
      (root + "/package-lock.json")
      (root + "/tsconfig.json")
      (root + "/tsconfig.build.json")
      (root + "/src")
      (root + "/scripts")
      (lib.fileset.maybeMissing (root + "/schemas"))
      (lib.fileset.maybeMissing (root + "/sites.example.yaml"))
      ./.
    ];
  };
in
buildNpmPackage {
  pname = package.name;
  inherit (package) version;
  inherit src nodejs;

  npmDeps = importNpmLock {
    inherit package;
    packageLock = addRegistryUrls (lib.importJSON (root + "/package-lock.json"));
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  # npm pack runs the "prepare" script, which would compile the TypeScript a
  # second time after the build phase.
  npmPackFlags = [ "--ignore-scripts" ];

  # ffvm runs qemu-img to create and grow the site disks and passt for each
  # VM's network. nix comes from the system, because it has to talk to the
  # system's Nix daemon.
  makeWrapperArgs = [
    "--suffix"
    "PATH"
    ":"
    (lib.makeBinPath [ qemu_kvm passt ])
  ];

  meta = {
    inherit (package) description;
    license = lib.licenses.mit;
    mainProgram = "ffvm";
    platforms = lib.platforms.linux;
  };
}
