# NixOS module: runs `ffvm watch` as a systemd user service in the graphical
# session of every user, so that each user's pinned sites start at login and
# their VMs follow that user's sites.yaml. Enable it with
#
#   services.ffvm.enable = true;
#   services.ffvm.sitesFile = "%h/dotfiles/sites.yaml";
#
# The flake sets services.ffvm.package; without the flake, set it yourself.
# docs/service.md explains the unit.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.ffvm;

  # Quotes one word of ExecStart= as a systemd C-style string. Unlike
  # utils.escapeSystemdExecArgs it leaves % alone, so that specifiers such as
  # %h (the user's home directory) expand in sitesFile; $ is doubled so that
  # systemd expands no variable.
  quote = word: lib.replaceStrings [ "$" ] [ "$$" ] (builtins.toJSON word);

  arguments =
    [
      "watch"
      "--heal-schedule"
      cfg.healSchedule
    ]
    ++ lib.optionals (cfg.sitesFile != null) [
      "--config"
      cfg.sitesFile
    ];
in
{
  options.services.ffvm = {
    enable = lib.mkEnableOption "ffvm watch, which keeps one Firefox VM per site of sites.yaml running in each user's graphical session";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The ffvm package. The ffvm flake's nixosModules.service sets it to the flake's package.";
    };

    sitesFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "%h/dotfiles/sites.yaml";
      description = ''
        Absolute path of sites.yaml. systemd specifiers expand in it, such as
        %h for the home directory of the user the service runs for. null
        makes ffvm look for ./sites.yaml in the home directory, then for
        $XDG_CONFIG_HOME/ffvm/sites.yaml.
      '';
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
    systemd.user.services.ffvm = {
      description = "ffvm watch: one Firefox VM per website, reconciled from sites.yaml";
      # Started and stopped with the desktop session, whose display the VM windows need.
      partOf = [ "graphical-session.target" ];
      after = [ "graphical-session.target" ];
      wantedBy = [ "graphical-session.target" ];
      # nix builds the image flake through the system's daemon; passt gives
      # the VMs their network. The package brings qemu itself.
      path = [
        config.nix.package
        pkgs.passt
      ];
      serviceConfig = {
        Type = "exec";
        ExecStart = lib.concatMapStringsSep " " quote ([ (lib.getExe cfg.package) ] ++ arguments);
        # SIGHUP makes ffvm watch reconcile at once.
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = 10;
        # On stop systemd signals only ffvm. With the default
        # KillMode=control-group it would also kill the QEMU processes ffvm
        # started, which sit in this unit's cgroup, and close the browser
        # sessions whenever the service restarts.
        KillMode = "process";
        # A VM start in flight may take up to 30 s to finish before ffvm exits.
        TimeoutStopSec = 60;
        SyslogIdentifier = "ffvm";
      };
    };
  };
}
