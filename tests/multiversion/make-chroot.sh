#!/usr/bin/env bash
# make-chroot.sh [--refresh] [--bare] SUITE
#
# Build (once) a minimal Debian chroot of SUITE with tshark installed, for
# running the plugin's tests against another Wireshark version:
#
#   ${APPLESHARK_CACHE:-$HOME/.cache/appleshark}/chroot/<suite>
#
# SUITE: trixie (Wireshark 4.4) or sid (4.6); aliases 4.4 and 4.6; bookworm
#        (4.0, same as the host) is accepted too.
#
# - debootstrap --variant=minbase from the Debian mirror the host's apt sources
#   use (override with APPLESHARK_DEBIAN_MIRROR=URL); debootstrap is installed
#   with apt-get when missing. Downloaded .debs are kept in
#   <cache>/debootstrap-debs/<suite> so that --refresh is faster.
# - inside: preseed wireshark-common/install-setuid=false, then
#   apt-get install --no-install-recommends tshark (noninteractive).
#   sid: Acquire::Check-Valid-Until=false is written into the chroot's apt config.
# - checks that an unprivileged user (65534) can run tshark -v there:
#     chroot DIR setpriv --reuid=65534 --regid=65534 --clear-groups \
#         env HOME=/tmp/x tshark -v
# - no mounts are needed; /proc is mounted only if the tshark install fails
#   without it, and unmounted again.
#
# --bare: only the debootstrap minbase system (no tshark, nothing installed or checked
# inside), in <cache>/chroot/<suite>-minbase: what a fresh machine is
# (tests/fresh-machine/run.sh uses it, never changing it).
#
# Idempotent: a stamp file (DIR/.appleshark-chroot-stamp) marks a finished
# chroot; --refresh rebuilds it. Needs root.
#
# Output: the chroot path is the LAST line of stdout; progress goes to stderr.

set -euo pipefail

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
    cat >&2 <<USAGE
usage: $prog [--refresh] [--bare] SUITE
  SUITE: trixie|sid (or 4.4|4.6; bookworm|4.0 also accepted)
  Builds \${APPLESHARK_CACHE:-\$HOME/.cache/appleshark}/chroot/<suite> with tshark
  and prints its path as the last line of stdout. --refresh rebuilds it.
USAGE
    exit 2
}

refresh=0
bare=0
suite_arg=
while [ $# -gt 0 ]; do
    case $1 in
        --refresh) refresh=1 ;;
        --bare) bare=1 ;;
        -h|--help) usage ;;
        -*) log "unknown option: $1"; usage ;;
        *) [ -z "$suite_arg" ] || { log "only one SUITE allowed"; usage; }
           suite_arg=$1 ;;
    esac
    shift
done
[ -n "$suite_arg" ] || usage

# shellcheck source=wireshark-headers/debian-mirror.sh
. "$(dirname "$0")/../../wireshark-headers/debian-mirror.sh"
debian_suite "$suite_arg" || die "unknown suite '$suite_arg' (expected bookworm, trixie, sid, 4.0, 4.4 or 4.6)"

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and chroot need it)"

cache=${APPLESHARK_CACHE:-${HOME:?HOME is not set}/.cache/appleshark}
name=$suite; [ "$bare" = 0 ] || name=$suite-minbase
dir=$cache/chroot/$name
stamp=$dir/.appleshark-chroot-stamp

# Is anything mounted at or below $1? (never rm -rf a tree with mounts in it)
mounted_below() {
    awk -v d="$1" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

# Run tshark -v as nobody inside the chroot; prints its first line.
check_tshark() {
    local root=$1 home=/tmp/appleshark-check.$$
    mkdir -p "$root$home"
    chown 65534:65534 "$root$home"
    local rc=0 out
    out=$(chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups \
              env HOME="$home" tshark -v 2>&1) || rc=$?
    rm -rf "${root:?}$home"
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$out" >&2
        return $rc
    fi
    printf '%s\n' "$out" | head -n1
}

# One build per suite at a time.
mkdir -p "$cache/chroot"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/chroot/.$name.lock"
    flock 9 || die "could not lock $cache/chroot/.$name.lock"
fi

# ---- already there? ---------------------------------------------------------
if [ "$refresh" = 0 ] && [ -f "$stamp" ]; then
    log "$suite: chroot already built ($(head -n1 "$stamp")); --refresh rebuilds"
    printf '%s\n' "$dir"
    exit 0
fi

# ---- find the host's Debian mirror (shared with the other scripts that download from Debian)

mirror=$(debian_mirror) || die "no Debian mirror"
log "$suite: Debian mirror $mirror (from the host's apt sources)"

# ---- debootstrap on the host ----------------------------------------------------
if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap on the host (apt-get install debootstrap)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2; then
        apt-get update -q >&2 || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 \
            || die "could not install debootstrap"
    fi
fi
# An older debootstrap may not know a newer suite name: all current Debian
# suites use the same script as sid.
script=/usr/share/debootstrap/scripts/$suite
[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
[ -e "$script" ] || die "debootstrap has no script for $suite (nor for sid) in /usr/share/debootstrap/scripts"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
ds_opts=(--variant=minbase)
if [ -f "$keyring" ]; then
    ds_opts+=(--keyring="$keyring")
else
    log "warning: $keyring not found; debootstrap will use its default keyring"
fi
debcache=$cache/debootstrap-debs/$suite
mkdir -p "$debcache"
ds_opts+=(--cache-dir="$debcache")

# ---- build into a temporary dir, rename when done -------------------------------
work=$dir.partial
for d in "$dir" "$work"; do
    if [ -e "$d" ] && mounted_below "$d"; then
        die "something is mounted below $d (see /proc/self/mounts); unmount it first"
    fi
done
rm -rf "$work"
mkdir -p "${work%/*}"

proc_mounted=0
cleanup() {
    if [ "$proc_mounted" = 1 ]; then
        umount "$work/proc" 2>/dev/null || umount -l "$work/proc" 2>/dev/null || true
    fi
}
trap cleanup EXIT

t0=$(date +%s)
log "$suite: debootstrap ${ds_opts[*]} $suite $work $mirror"
debootstrap "${ds_opts[@]}" "$suite" "$work" "$mirror" "$script" >&2 \
    || die "debootstrap of $suite failed (log: $work/debootstrap/debootstrap.log)"
t1=$(date +%s)
log "$suite: debootstrap took $((t1 - t0)) s"

# apt inside the chroot
if [ "$suite" = sid ]; then
    # sid's Release is often "expired" on the mirror
    printf 'Acquire::Check-Valid-Until "false";\n' > "$work/etc/apt/apt.conf.d/99appleshark-no-valid-until"
fi
[ -s "$work/etc/resolv.conf" ] || { [ -f /etc/resolv.conf ] && cp -L /etc/resolv.conf "$work/etc/resolv.conf"; } || true

in_chroot() { chroot "$work" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
                  DEBIAN_FRONTEND=noninteractive "$@"; }

if [ "$bare" = 0 ]; then
    log "$suite: preseeding wireshark-common/install-setuid=false"
    printf 'wireshark-common wireshark-common/install-setuid boolean false\n' \
        | in_chroot debconf-set-selections >&2 || die "debconf-set-selections failed in the chroot"

    log "$suite: apt-get update + install --no-install-recommends tshark (inside)"
    in_chroot apt-get -q update >&2 || die "apt-get update failed inside the $suite chroot"
    install_tshark() { in_chroot apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends tshark >&2; }
    if ! install_tshark; then
        log "$suite: install failed without /proc; mounting /proc and retrying"
        mount -t proc proc "$work/proc" || die "could not mount /proc in $work"
        proc_mounted=1
        in_chroot apt-get install -y -q -o Dpkg::Use-Pty=0 -f --no-install-recommends >&2 || true
        install_tshark || die "apt-get install tshark failed inside the $suite chroot"
        umount "$work/proc" || die "could not unmount $work/proc"
        proc_mounted=0
    fi
    in_chroot apt-get clean >&2 || true
    t2=$(date +%s)
    log "$suite: tshark install took $((t2 - t1)) s"

    version=$(in_chroot dpkg-query -W -f='${Version}' tshark) || die "tshark not installed in the chroot"
    if [ -u "$work/usr/bin/dumpcap" ]; then
        log "warning: dumpcap is setuid in the chroot (preseed not applied?)"
    fi

    log "$suite: checking tshark -v as uid 65534"
    line=$(check_tshark "$work") || die "tshark -v as uid 65534 failed in the $suite chroot"
    log "$suite: $line"
    case $line in
        *" $want."*) ;;
        *) die "$suite: expected Wireshark $want, tshark says: $line" ;;
    esac
else
    version="(none: --bare minbase)"; t2=$t1
fi

{
    printf 'tshark %s\n' "$version"
    printf 'suite=%s\nwireshark=%s\nmirror=%s\nbuilt=%s\n' "$suite" "$want" "$mirror" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'debootstrap_s=%s\ninstall_s=%s\n' "$((t1 - t0))" "$((t2 - t1))"
} > "$work/.appleshark-chroot-stamp"

trap - EXIT
if [ -e "$dir" ]; then
    mounted_below "$dir" && die "something is mounted below $dir; unmount it and re-run"
    rm -rf "$dir"
fi
mv "$work" "$dir"
log "$suite: chroot ready: $dir ($(du -sh "$dir" 2>/dev/null | cut -f1)); tshark $version"
printf '%s\n' "$dir"
