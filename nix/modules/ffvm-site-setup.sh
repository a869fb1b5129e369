# Apply the site that ffvm hands this VM through the fw_cfg file opt/ffvm/site.
# ffvm-site.service runs it as root once per boot, before the kiosk session.
#
# guest.nix wraps this file with writeShellApplication, which adds the shebang,
# `set -o errexit -o nounset -o pipefail`, a PATH with ffvm-unpack-site, ffvm-vpn,
# ffvm-install-policies, ffvm-setup-profile and the tools they call, and these
# variables:
#   FFVM_SITE_RAW        sysfs file of the fw_cfg entry
#   FFVM_SITE_DIR        directory the site archive is unpacked into
#   FFVM_PROFILE_DIR     Firefox profile directory
#   FFVM_POLICIES_FILE   enterprise policy file that Firefox reads
#   FFVM_VPN_INTERFACE   WireGuard interface name for ffvm-vpn
#   FFVM_WG_DIR          directory where ffvm-vpn writes the WireGuard config
#   FFVM_BROWSER_USER    account that runs cage and Firefox
#   FFVM_EGRESS_TABLE    inet nftables table whose output chain drops by default
#   FFVM_WAIT_ONLINE     path of systemd-networkd-wait-online

log() {
  printf 'ffvm-site: %s\n' "$*" >&2
}

# The "setup" chain of the egress table lets DNS out while the WireGuard endpoint
# is resolved. It is emptied on every exit. After that, only the static DHCP and
# neighbour discovery rules and the rules this script added to the "open" chain
# let packets out. On a failure "open" stays empty, so the guest fails closed.
close_setup_egress() {
  if ! nft flush chain inet "$FFVM_EGRESS_TABLE" setup; then
    log "failed to flush the nftables chain inet $FFVM_EGRESS_TABLE setup"
  fi
}
trap close_setup_egress EXIT

unpack_site() {
  modprobe qemu_fw_cfg
  if [ ! -e "$FFVM_SITE_RAW" ]; then
    log "fw_cfg file opt/ffvm/site not found at $FFVM_SITE_RAW." \
      "Start the VM with -fw_cfg name=opt/ffvm/site,file=SITE.tar"
    exit 1
  fi
  # ffvm-unpack-site needs an absent or empty destination. /run is a tmpfs, so
  # the directory exists only if this service runs a second time in one boot.
  rm -rf -- "$FFVM_SITE_DIR"
  ffvm-unpack-site "$FFVM_SITE_RAW" "$FFVM_SITE_DIR"
}

# Set the kernel hostname (what hostname(1) does) because the image is shared
# and /etc/hostname contains the image's name, not the site's.
set_hostname() {
  local name=""
  if [ -f "$FFVM_SITE_DIR/name" ]; then
    IFS= read -r name <"$FFVM_SITE_DIR/name" || true
  fi
  if [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]; then
    printf '%s' "$name" >/proc/sys/kernel/hostname
    log "hostname set to $name"
  else
    log "site name '$name' is not a valid hostname (1 to 63 letters, digits" \
      "or '-', not starting or ending with '-'); keeping $(cat /proc/sys/kernel/hostname)"
  fi
}

# ffvm-unpack-site leaves the site root-only. Firefox, running as the browser
# user, reads the URL and the add-ons that the policies install from
# file:///run/ffvm/addons/, so the browser user's group gets read access to
# everything except the WireGuard config, which contains a private key.
share_site_with_browser() {
  local group
  group=$(id -gn "$FFVM_BROWSER_USER")
  find "$FFVM_SITE_DIR" ! -name wireguard.conf \
    -exec chgrp "$group" {} + \
    -exec chmod g+rX {} +
}

# Add the accept rules for the tunnel: everything through the WireGuard
# interface, and UDP to each peer endpoint that wg-quick resolved.
open_vpn_egress() {
  local endpoints peer endpoint address port family
  nft add rule inet "$FFVM_EGRESS_TABLE" open oifname "$FFVM_VPN_INTERFACE" accept
  endpoints=$(wg show "$FFVM_VPN_INTERFACE" endpoints)
  while IFS=$'\t' read -r peer endpoint; do
    case $endpoint in
      '' | '(none)')
        log "peer $peer has no endpoint"
        continue
        ;;
      '['*']:'*)
        address=${endpoint%]:*}
        address=${address#[}
        port=${endpoint##*]:}
        family=ip6
        ;;
      *:*)
        address=${endpoint%:*}
        port=${endpoint##*:}
        family=ip
        ;;
      *)
        log "unexpected endpoint '$endpoint' from wg show $FFVM_VPN_INTERFACE endpoints"
        exit 1
        ;;
    esac
    if [[ ! $address =~ ^[0-9A-Fa-f.:]+$ || ! $port =~ ^[0-9]+$ ]]; then
      log "unexpected endpoint '$endpoint' from wg show $FFVM_VPN_INTERFACE endpoints"
      exit 1
    fi
    nft add rule inet "$FFVM_EGRESS_TABLE" open "$family" daddr "$address" udp dport "$port" accept
    log "egress open to WireGuard endpoint $endpoint"
  done <<<"$endpoints"
  log "egress open through $FFVM_VPN_INTERFACE only"
}

start_vpn() {
  local config="$FFVM_SITE_DIR/wireguard.conf"
  if [ -e "$config" ]; then
    # wg-quick resolves the endpoint name and needs a route to it.
    if ! "$FFVM_WAIT_ONLINE" --any --operational-state=routable --timeout=60; then
      log "timed out after 60 s waiting for a routable network interface, starting the VPN anyway"
    fi
  fi
  if ! ffvm-vpn "$FFVM_SITE_DIR" "$FFVM_VPN_INTERFACE"; then
    log "ffvm-vpn failed, so the network stays closed"
    exit 1
  fi
  if [ -e "$config" ]; then
    open_vpn_egress
  else
    nft add rule inet "$FFVM_EGRESS_TABLE" open accept
    log "the site has no WireGuard config, so egress is open"
  fi
}

set_up_profile() {
  local group
  group=$(id -gn "$FFVM_BROWSER_USER")
  install -d -m 0755 -o root -g root "$(dirname "$FFVM_PROFILE_DIR")"
  install -d -m 0700 -o "$FFVM_BROWSER_USER" -g "$group" "$FFVM_PROFILE_DIR"
  # ffvm-setup-profile leaves its files owned by the caller, and root must not
  # write into a directory that the browser user controls.
  setpriv --reuid="$FFVM_BROWSER_USER" --regid="$group" --init-groups \
    ffvm-setup-profile "$FFVM_SITE_DIR" "$FFVM_PROFILE_DIR"
}

unpack_site
set_hostname
share_site_with_browser
start_vpn
ffvm-install-policies "$FFVM_SITE_DIR" "$FFVM_POLICIES_FILE"
set_up_profile
log "site ready"
