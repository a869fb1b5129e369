# The ffvm flake: the shared guest image and ffvm itself.
#
#   packages.<system>.vm       the guest's config.system.build.vm. ffvm builds
#                              it and starts <out>/bin/run-ffvm-vm for each site
#   packages.<system>.ffvm     ffvm, from the repository root (also default)
#   apps.<system>.ffvm         `nix run` for ffvm (also default)
#   nixosModules.guest         the guest module, for a flake of your own
#   nixosModules.service       ffvm watch as a systemd user service (NixOS)
#   homeManagerModules.ffvm    the same for home-manager
#   nixosConfigurations.ffvm   the guest on x86_64-linux
#
# This flake lives in nix/ and ffvm's sources in ../. A git flake (a git
# checkout given as a directory, or git+file:, github: and similar URLs with
# ?dir=nix) copies the whole repository to the store, so ../ is reachable.
# A path: flake copies only nix/, so there only the outputs that do not read
# ../ evaluate: vm, nixosModules.guest and nixosConfigurations.ffvm.
# docs/image.md has the details.
{
  description = "ffvm: one Firefox VM per website, from one shared NixOS image";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      # QEMU runs the guest with KVM, so the guest has the host's architecture.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = lib.genAttrs systems;

      guestFor =
        system:
        lib.nixosSystem {
          modules = [
            self.nixosModules.guest
            { nixpkgs.hostPlatform = system; }
          ];
        };
      guests = forAllSystems guestFor;
    in
    {
      nixosModules.guest = ./modules/guest.nix;

      # ffvm watch as a systemd user service; docs/service.md lists the options.
      nixosModules.service =
        { lib, pkgs, ... }:
        {
          imports = [ ./modules/service.nix ];
          services.ffvm.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.ffvm;
        };
      homeManagerModules.ffvm =
        { lib, pkgs, ... }:
        {
          imports = [ ./modules/home-manager.nix ];
          services.ffvm.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.ffvm;
        };

      nixosConfigurations.ffvm = guests.x86_64-linux;

      # The image never refers to ../, so editing ffvm's TypeScript rebuilds
      # packages.<system>.ffvm but not packages.<system>.vm.
      packages = forAllSystems (
        system:
        let
          ffvm = nixpkgs.legacyPackages.${system}.callPackage ./package.nix { };
        in
        {
          vm = guests.${system}.config.system.build.vm;
          inherit ffvm;
          default = ffvm;
        }
      );

      apps = forAllSystems (
        system:
        let
          ffvm = {
            type = "app";
            program = lib.getExe self.packages.${system}.ffvm;
          };
        in
        {
          inherit ffvm;
          default = ffvm;
        }
      );
    };
}
