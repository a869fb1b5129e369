# home-manager module: runs `ffvm watch` as a systemd user service in the
# graphical session, with the options of the NixOS module
# (nix/modules/service.nix). Enable it with
#
#   services.ffvm.enable = true;
#   services.ffvm.sitesFile = "${config.home.homeDirectory}/dotfiles/sites.yaml";
#
# The flake sets services.ffvm.package; without the flake, set it yourself.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.ffvm;

  # Quotes one word of ExecStart= as a systemd C-style string; % stays, so
  # that specifiers such as %h expand, and $ is doubled.
  quote = word: lib.replaceStrings [ "$" ] [ "$$" ] (builtins.toJSON word);

  arguments = [
    "watch"
    "--config"
    cfg.sitesFile
    "--heal-schedule"
    cfg.healSchedule
  ];

  # The service does not inherit the login shell's PATH. passt comes from
  # nixpkgs; nix, needed to build an image flake, comes from the system,
  # because it talks to the system's daemon. %u and %h are the user name and
  # home directory.
  searchPath = lib.concatStringsSep ":" [
    (lib.makeBinPath [ pkgs.passt ])
    "/run/current-system/sw/bin"
    "/etc/profiles/per-user/%u/bin"
    "%h/.nix-profile/bin"
    "/nix/var/nix/profiles/default/bin"
    "/usr/local/bin"
    "/usr/bin"
    "/bin"
  ];
in
{
  options.services.ffvm = {
    enable = lib.mkEnableOption "ffvm watch, which keeps one Firefox VM per site of sites.yaml running in the graphical session";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The ffvm package. The ffvm flake's homeManagerModules.ffvm sets it to the flake's package.";
    };

    sitesFile = lib.mkOption {
      type = lib.types.str;
      default = "${config.xdg.configHome}/ffvm/sites.yaml";
      defaultText = lib.literalExpression ''"''${config.xdg.configHome}/ffvm/sites.yaml"'';
      example = "/home/alice/dotfiles/sites.yaml";
      description = "Absolute path of sites.yaml. systemd specifiers expand in it, such as %h for the home directory.";
    };

    healSchedule = lib.mkOption {
      type = lib.types.str;
      default = "*/5 * * * *";
      example = "*/2 * * * *";
      description = ''
        When ffvm watch reconciles to heal drift, such as a pinned VM that
        died, as a node-cron expression: minute hour day-of-month month
        day-of-week, with an optional seconds field first.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    # ffvm status, open and stop on the command line.
    home.packages = [ cfg.package ];

    systemd.user.services.ffvm = {
      Unit = {
        Description = "ffvm watch: one Firefox VM per website, reconciled from sites.yaml";
        # Started and stopped with the desktop session, whose display the VM windows need.
        PartOf = [ "graphical-session.target" ];
        After = [ "graphical-session.target" ];
      };
      Service = {
        Type = "exec";
        ExecStart = lib.concatMapStringsSep " " quote ([ (lib.getExe cfg.package) ] ++ arguments);
        # SIGHUP makes ffvm watch reconcile at once.
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Environment = [ "PATH=${searchPath}" ];
        Restart = "on-failure";
        RestartSec = 10;
        # On stop systemd signals only ffvm, so that the QEMU processes it
        # started, which sit in this unit's cgroup, keep running.
        KillMode = "process";
        # A VM start in flight may take up to 30 s to finish before ffvm exits.
        TimeoutStopSec = 60;
        SyslogIdentifier = "ffvm";
      };
      Install.WantedBy = [ "graphical-session.target" ];
    };
  };
}
