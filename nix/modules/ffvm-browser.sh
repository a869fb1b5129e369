# Start Firefox on the site URL. cage runs this as the browser user after
# ffvm-site.service has unpacked the site and prepared the profile.
#
# guest.nix wraps this file with writeShellApplication, which adds the shebang,
# `set -o errexit -o nounset -o pipefail`, Firefox on the PATH and these
# variables:
#   FFVM_URL_FILE      file whose first line is the site URL
#   FFVM_PROFILE_DIR   Firefox profile directory

url=""
if [ -r "$FFVM_URL_FILE" ]; then
  # read returns 1 at a last line without a newline but still sets url.
  IFS= read -r url <"$FFVM_URL_FILE" || true
fi
if [ -z "$url" ]; then
  printf 'ffvm-browser: no URL in %s. Check the url member of the site archive.\n' \
    "$FFVM_URL_FILE" >&2
  exit 1
fi

# Links the host opens in this VM (ffvm open URL) arrive one per line on the
# virtio-serial port org.ffvm.open; each goes to the running Firefox as a new
# tab. The host closes the port after each link, which ends a read with EOF,
# so the port is opened again after each round.
# NOTE: passing a URL to the running Firefox relies on Firefox's remoting
# under cage (Wayland); it has not been run in a built image.
links=/dev/virtio-ports/org.ffvm.open
if [ -r "$links" ]; then
  (
    while true; do
      while IFS= read -r link; do
        case $link in
          http://* | https://*) firefox --profile "$FFVM_PROFILE_DIR" --new-tab "$link" || true ;;
          *) printf 'ffvm-browser: ignored a link that is not http(s)\n' >&2 ;;
        esac
      done <"$links"
      sleep 1
    done
  ) &
fi

exec firefox --profile "$FFVM_PROFILE_DIR" "$url"
