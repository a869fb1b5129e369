# The ffvm guest: one NixOS VM image shared by every site.
#
# Nothing here depends on a site. ffvm starts each VM with the QEMU fw_cfg file
# opt/ffvm/site (a ustar archive with url, name, policies.json, userChrome.css,
# an optional wireguard.conf and optional addons/NAME.xpi), and ffvm-site.service
# applies it at boot before cage starts Firefox. docs/image.md explains the
# isolation choices and lists the nixpkgs options used here.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:

let
  siteDir = "/run/ffvm";
  profileDir = "/var/lib/ffvm/profile";
  browserUser = "browser";
  vpnInterface = "wg0";
  egressTable = "ffvm";

  serialConsole = if pkgs.stdenv.hostPlatform.isAarch then "ttyAMA0" else "ttyS0";

  # The PATH of the guest scripts. wg-quick takes nft and resolvconf from the
  # PATH when they are there, so nftables and systemd (whose resolvconf talks to
  # systemd-resolved) come before the iptables and openresolv fallbacks of the
  # wireguard-tools wrapper.
  scriptInputs = [
    config.systemd.package
  ]
  ++ (with pkgs; [
    coreutils
    findutils
    gawk
    gnugrep
    gnused
    gnutar
    iproute2
    kmod
    nftables
    util-linux
    wireguard-tools
  ]);

  # Wrap ../scripts/NAME, keeping its own shell options: the scripts are POSIX
  # sh with their own `set` lines, so their text is not pasted into
  # writeShellApplication, which would add errexit and pipefail. The file is
  # copied to the store by content, so only a change to it rebuilds the image.
  wrapGuestScript =
    name:
    pkgs.writeShellApplication {
      inherit name;
      runtimeInputs = scriptInputs;
      text = ''
        exec ${pkgs.runtimeShell} ${../scripts + "/${name}"} "$@"
      '';
    };

  guestScripts = map wrapGuestScript [
    "ffvm-unpack-site"
    "ffvm-vpn"
    "ffvm-install-policies"
    "ffvm-setup-profile"
  ];

  siteSetup = pkgs.writeShellApplication {
    name = "ffvm-site-setup";
    runtimeInputs = guestScripts ++ scriptInputs;
    runtimeEnv = {
      FFVM_SITE_RAW = "/sys/firmware/qemu_fw_cfg/by_name/opt/ffvm/site/raw";
      FFVM_SITE_DIR = siteDir;
      FFVM_PROFILE_DIR = profileDir;
      FFVM_POLICIES_FILE = "/etc/firefox/policies/policies.json";
      FFVM_VPN_INTERFACE = vpnInterface;
      # A tmpfs, so the WireGuard private key never reaches the site's disk.
      FFVM_WG_DIR = "/run/ffvm-wireguard";
      FFVM_BROWSER_USER = browserUser;
      FFVM_EGRESS_TABLE = egressTable;
      FFVM_WAIT_ONLINE = "${config.systemd.package}/lib/systemd/systemd-networkd-wait-online";
    };
    text = builtins.readFile ./ffvm-site-setup.sh;
  };

  browserLauncher = pkgs.writeShellApplication {
    name = "ffvm-browser";
    runtimeInputs = [ pkgs.firefox ];
    runtimeEnv = {
      FFVM_URL_FILE = "${siteDir}/url";
      FFVM_PROFILE_DIR = profileDir;
    };
    text = builtins.readFile ./ffvm-browser.sh;
  };
in
{
  imports = [ (modulesPath + "/virtualisation/qemu-vm.nix") ];

  system.stateVersion = "25.05";

  # The runner is bin/run-<system.name>-vm, and system.name defaults to the
  # host name: run-ffvm-vm. The site's name replaces it at run time.
  networking.hostName = lib.mkDefault "ffvm";

  virtualisation = {
    # Defaults for a run by hand. ffvm appends its own -m and -smp after the
    # runner's, and QEMU uses the last one.
    memorySize = 2048;
    cores = 2;

    # ffvm creates an empty qcow2 per site and passes it as NIX_DISK_IMAGE. The
    # runner formats a disk, labelled "nixos", only when the file does not exist,
    # and an empty disk has no label. So the root file system is found by the
    # drive serial "root" that qemu-vm.nix sets, and the systemd initrd formats
    # it as ext4 on the first boot (x-systemd.makefs). diskSize is the size of a
    # disk that the runner creates itself, in MiB.
    rootDevice = "/dev/disk/by-id/virtio-root";
    fileSystems."/".autoFormat = true;
    diskSize = 4096;

    # The store is an erofs image of this system's closure only, built by the
    # runner at every start in $TMPDIR and mounted read-only. The host's
    # /nix/store is not shared.
    useNixStoreImage = true;
    mountHostNixStore = false;
    writableStore = false;

    # qemu-vm.nix shares $TMPDIR/xchg and $SHARED_DIR with the guest over 9p.
    # The guest gets no host directory.
    sharedDirectories = lib.mkForce { };

    # ffvm supplies the network device itself. "-nic none" stops QEMU from
    # adding its default user-mode NIC, which reaches the host's loopback, when
    # the runner is started without network arguments.
    qemu.networkingOptions = lib.mkForce [ "-nic none" ];

    # ffvm does not use the guest agent, which would let the host run commands
    # in the guest.
    qemu.guestAgent.enable = false;

    # A window with the browser. The serial port is the last console, so it is
    # /dev/console and boot and service messages reach ffvm's serial log.
    graphics = true;
    qemu.consoles = [
      "tty0"
      "${serialConsole},115200n8"
    ];
    # cage needs a KMS device that wlroots can drive, and QEMU's default VGA on
    # x86 is not one. qemu-vm.nix already adds virtio-gpu-pci on aarch64.
    qemu.options = lib.optionals pkgs.stdenv.hostPlatform.isx86 [
      "-vga none"
      "-device virtio-gpu-pci"
    ];
  };

  # The systemd initrd implements fileSystems.<name>.autoFormat for "/".
  boot.initrd.systemd.enable = true;
  # The runner boots the kernel directly.
  boot.loader.grub.enable = false;

  # The store is read-only and nothing is built in the guest.
  nix.enable = false;

  documentation = {
    enable = false;
    nixos.enable = false;
  };
  environment.defaultPackages = [ ];
  security.sudo.enable = false;

  # The browser user reads the links the host sends (ffvm-browser.sh).
  services.udev.extraRules = ''
    SUBSYSTEM=="virtio-ports", ATTR{name}=="org.ffvm.open", OWNER="${browserUser}", MODE="0600"
  '';

  users.groups.${browserUser} = { };
  users.users.${browserUser} = {
    isNormalUser = true;
    group = browserUser;
    description = "Firefox kiosk session";
  };

  networking = {
    useNetworkd = true;
    useDHCP = true;
    firewall = {
      enable = true;
      # wg-quick routes through a second table selected by a firewall mark. The
      # strict check compares a packet's interface with the route back, which
      # that routing can change. The loose check only needs some route back.
      # NOTE: not yet tested with a tunnel in this image.
      checkReversePath = "loose";
    };
    nftables = {
      enable = true;
      # Egress filter. Only the loopback, DHCP and neighbour discovery get out
      # until ffvm-site-setup adds rules to "open": everything when the site has
      # no WireGuard config, otherwise the tunnel interface and its endpoints.
      # "setup" lets DNS out while the endpoint is resolved and is emptied when
      # ffvm-site-setup exits, whether it succeeded or not.
      tables.${egressTable} = {
        family = "inet";
        content = ''
          chain output {
            type filter hook output priority 0; policy drop;
            oifname "lo" accept
            udp sport 68 udp dport 67 accept
            udp sport 546 udp dport 547 accept
            icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report } accept
            jump setup
            jump open
          }

          chain setup {
            meta l4proto { tcp, udp } th dport 53 accept
          }

          chain open {
          }
        '';
      };
    };
  };

  # networkd would otherwise remove the routes and rules that wg-quick adds.
  systemd.network.config.networkConfig = {
    ManageForeignRoutes = false;
    ManageForeignRoutingPolicyRules = false;
  };

  systemd.services.ffvm-site = {
    description = "Apply the ffvm site from fw_cfg";
    wantedBy = [ "multi-user.target" ];
    before = [ "cage-tty1.service" ];
    requires = [ "nftables.service" ];
    after = [
      "nftables.service"
      "network.target"
    ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      ExecStart = "${siteSetup}/bin/ffvm-site-setup";
      StandardOutput = "journal+console";
      StandardError = "journal+console";
      # 60 s of that is the wait for a route before the VPN starts.
      TimeoutStartSec = "5min";
    };
  };

  services.cage = {
    enable = true;
    user = browserUser;
    program = "${browserLauncher}/bin/ffvm-browser";
    # Ask Firefox not to draw client-side window decorations.
    extraArguments = [ "-d" ];
    environment.MOZ_ENABLE_WAYLAND = "1";
  };

  systemd.services.cage-tty1 = {
    # No browser without the site: if ffvm-site fails, the screen stays empty
    # and the serial log shows the error.
    requires = [ "ffvm-site.service" ];
    after = [ "ffvm-site.service" ];
    # Closing Firefox ends cage, and then the VM powers off and QEMU exits.
    unitConfig.SuccessAction = "poweroff";
  };

  fonts.enableDefaultPackages = true;

  # Sound reaches Firefox through PipeWire's PulseAudio server. The VM has a
  # sound card only when ffvm adds one for a site that asks for audio.
  services.pipewire = {
    enable = true;
    pulse.enable = true;
  };
}
