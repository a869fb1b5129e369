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

exec firefox --profile "$FFVM_PROFILE_DIR" "$url"
