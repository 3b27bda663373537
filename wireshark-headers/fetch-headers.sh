#!/usr/bin/env bash
# fetch-headers.sh SUITE
#
# Download the Wireshark development headers (libwireshark-dev, libwsutil-dev,
# libwiretap-dev) of one Debian suite WITHOUT installing them, and unpack them
# into a cache outside the repository:
#
#   ${APPLESHARK_CACHE:-$HOME/.cache/appleshark}/headers/<suite>/usr/include/wireshark
#
# SUITE: bookworm (Wireshark 4.0), trixie (4.4), sid (4.6);
#        the aliases 4.0, 4.4, 4.6 are accepted too.
#
# Uses a private apt configuration (APT_CONFIG) so the host's apt state is not
# touched. The Debian mirror is the one the host's own apt sources use
# (override with APPLESHARK_DEBIAN_MIRROR=URL).
#
# Idempotent: when the headers are already unpacked (stamp file present) nothing
# is downloaded. --refresh forces a new download.
#
# Output: the include directory (the one containing ws_version.h) is the LAST
# line of stdout; all progress messages go to stderr.
#
# Glib: the headers include <glib.h>; the host's glib headers
# (pkg-config --cflags glib-2.0) serve for all three versions.

set -euo pipefail

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
    cat >&2 <<EOF
usage: $prog [--refresh] SUITE
  SUITE: bookworm|trixie|sid (or 4.0|4.4|4.6)
  Unpacks the Wireshark dev headers of SUITE into
  \${APPLESHARK_CACHE:-\$HOME/.cache/appleshark}/headers/<suite>/ and prints the
  include dir (containing ws_version.h) as the last line of stdout.
EOF
    exit 2
}

refresh=0
suite_arg=
while [ $# -gt 0 ]; do
    case $1 in
        --refresh) refresh=1 ;;
        -h|--help) usage ;;
        -*) log "unknown option: $1"; usage ;;
        *) [ -z "$suite_arg" ] || { log "only one SUITE allowed"; usage; }
           suite_arg=$1 ;;
    esac
    shift
done
[ -n "$suite_arg" ] || usage

# shellcheck source=wireshark-headers/debian-mirror.sh
. "$(dirname "$0")/debian-mirror.sh"
debian_suite "$suite_arg" || die "unknown suite '$suite_arg' (expected bookworm, trixie, sid, 4.0, 4.4 or 4.6)"

for tool in apt-get apt-cache dpkg-deb dpkg; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (a Debian-based host is required)"
done

cache=${APPLESHARK_CACHE:-${HOME:?HOME is not set}/.cache/appleshark}
dest=$cache/headers/$suite
incdir=$dest/usr/include/wireshark
stamp=$dest/.appleshark-headers-stamp
packages="libwireshark-dev libwsutil-dev libwiretap-dev"

# Read WIRESHARK_VERSION_MAJOR.MINOR from a ws_version.h.
ws_major_minor() {
    awk '$1 == "#define" && $2 == "WIRESHARK_VERSION_MAJOR" { ma = $3 }
         $1 == "#define" && $2 == "WIRESHARK_VERSION_MINOR" { mi = $3 }
         END { if (ma != "" && mi != "") print ma "." mi }' "$1"
}

# One fetch per suite at a time (parallel builds may call this concurrently).
mkdir -p "$cache/headers"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/headers/.$suite.lock"
    flock 9 || die "could not lock $cache/headers/.$suite.lock"
fi

# ---- already there? ---------------------------------------------------------
if [ "$refresh" = 0 ] && [ -f "$stamp" ] && [ -f "$incdir/ws_version.h" ]; then
    got=$(ws_major_minor "$incdir/ws_version.h")
    if [ "$got" = "$want" ]; then
        log "$suite: headers already present ($(head -n1 "$stamp")), nothing to do"
        printf '%s\n' "$incdir"
        exit 0
    fi
    log "$suite: cached headers are Wireshark $got, expected $want: fetching again"
fi

# ---- find the host's Debian mirror (shared with the other scripts that download from Debian)

mirror=$(debian_mirror) || die "no Debian mirror"
log "$suite: Debian mirror $mirror (from the host's apt sources)"

# ---- private apt configuration ------------------------------------------------
aptdir=$cache/apt/$suite
mkdir -p "$aptdir/state/lists/partial" "$aptdir/cache/archives/partial" \
         "$aptdir/sources.list.d" "$aptdir/preferences.d" "$aptdir/debs"
[ -f "$aptdir/status" ] || : > "$aptdir/status"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ -f "$keyring" ]; then
    opts="signed-by=$keyring target=Packages"
else
    log "warning: $keyring not found; relying on apt's trusted keys (install debian-archive-keyring)"
    opts="target=Packages"
fi
# target=Packages: only the package lists (no DEP-11/Contents/Translations).
printf 'deb [%s] %s %s main\n' "$opts" "$mirror" "$suite" > "$aptdir/sources.list"

cat > "$aptdir/apt.conf" <<EOF
Dir::Etc::SourceList "$aptdir/sources.list";
Dir::Etc::SourceParts "$aptdir/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$aptdir/preferences.d";
Dir::State "$aptdir/state";
Dir::State::status "$aptdir/status";
Dir::Cache "$aptdir/cache";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF

apt_opts=()
if [ "$suite" = sid ]; then
    # sid's Release file is often "expired" on mirrors/snapshots.
    apt_opts+=(-o Acquire::Check-Valid-Until=false)
fi
export APT_CONFIG=$aptdir/apt.conf

log "$suite: apt-get update (private state in $aptdir)"
apt-get "${apt_opts[@]}" -q update >&2 || die "apt-get update for $suite failed (mirror $mirror)"

# Candidate version of each package. All three come from the wireshark source
# package; binNMUs (+bN) may in principle differ per binary, so compare the
# versions without the +bN suffix.
specs=()
version=
for p in $packages; do
    v=$(apt-cache "${apt_opts[@]}" policy "$p" | awk '$1 == "Candidate:" { print $2 }')
    [ -n "$v" ] && [ "$v" != "(none)" ] || die "$p not found in $suite at $mirror"
    if [ -z "$version" ]; then
        version=$v
    elif [ "${v%+b[0-9]*}" != "${version%+b[0-9]*}" ]; then
        die "$suite: version skew: libwireshark-dev $version but $p $v (mirror in transition? retry later)"
    fi
    specs+=("$p=$v")
done
log "$suite: libwireshark-dev candidate $version"

# ---- download and unpack ----------------------------------------------------
debs=$aptdir/debs
rm -f "$debs"/*.deb
log "$suite: apt-get download ${specs[*]}"
( cd "$debs" && apt-get "${apt_opts[@]}" -q download "${specs[@]}" ) >&2 \
    || die "apt-get download failed for ${specs[*]}"

tmp=$dest.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"; mkdir -p "$tmp"
for deb in "$debs"/*.deb; do
    [ -f "$deb" ] || die "no .deb downloaded into $debs"
    log "$suite: dpkg-deb -x ${deb##*/}"
    dpkg-deb -x "$deb" "$tmp"
done

[ -f "$tmp/usr/include/wireshark/ws_version.h" ] \
    || die "ws_version.h not found in the unpacked packages (expected usr/include/wireshark/ws_version.h)"
got=$(ws_major_minor "$tmp/usr/include/wireshark/ws_version.h")
[ "$got" = "$want" ] \
    || die "$suite: ws_version.h says Wireshark ${got:-?}, expected $want (package version $version); refusing to install"

{
    printf '%s\n' "$version"
    printf 'suite=%s\nwireshark=%s\nmirror=%s\npackages=%s\n' "$suite" "$got" "$mirror" "$packages"
} > "$tmp/.appleshark-headers-stamp"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
rm -f "$debs"/*.deb
# The package lists are only needed while fetching: drop them (~30 MB).
rm -rf "$aptdir/state/lists"
log "$suite: Wireshark $got headers ($version) in $incdir"
printf '%s\n' "$incdir"
