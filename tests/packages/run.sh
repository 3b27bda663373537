#!/usr/bin/env bash
# tests/packages/run.sh [SUITE...]   (default: bookworm trixie sid)
#
# Tests the binary packages (packaging/build-packages.sh, run first) in a clean chroot of each
# Debian release: the tshark chroot of tests/multiversion/make-chroot.sh, used through a
# throw-away overlay (the cached chroot itself is never changed). In each:
#   - apt-get install ./dist/appleshark_*+ws<that release's Wireshark>_amd64.deb
#   - tshark -G plugins lists appleshark.so in the release's global plugin folder
#   - every bundled sample in samples/ decodes (one independent check per sample, values as
#     in tests/samples.rs)
#   - apt-get remove appleshark leaves no file behind (file lists before/after compared)
#   - the package of another release is refused by apt (its libwireshark is not there)
#   - the tarball for that Wireshark minor: its install.sh (as a user) puts the .so into the
#     personal folder, where tshark finds it, and --uninstall removes it
# Needs root (chroot, mounts). Mounts live in a private mount namespace, so nothing is left
# mounted even if this is killed.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
die() { printf 'packages: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot, mounts)"

suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie sid)
cache=${APPLESHARK_CACHE:-$HOME/.cache/appleshark}

if [ "${APPLESHARK_INNER:-}" != 1 ]; then
  packaging/build-packages.sh "${suites[@]}"
  # shellcheck source=tests/support/each-chroot.sh
  . tests/support/each-chroot.sh
  in_each_chroot packages "${suites[@]}"
  exit $?
fi

# ---- inside the mount namespace: one suite
suite=$1 base=$APPLESHARK_BASE
case $suite in bookworm) ws=4.0 ;; trixie) ws=4.4 ;; sid) ws=4.6 ;; *) die "unknown suite $suite" ;; esac
# The overlay's upper layer next to the cached chroot, not in /tmp: /tmp may itself be an
# overlay (the bare system of tests/fresh-machine/run.sh --full is one), and overlayfs does
# not take an overlay as its upper layer.
mkdir -p "$cache/packages"
scratch=$(mktemp -d "$cache/packages/run-$suite.XXXXXX")
root=$scratch/root
cleanup() {
  umount "$root" 2>/dev/null || umount -l "$root" 2>/dev/null || true
  # Never delete through the chroot while it is still mounted.
  if awk -v s="$root" '$2 == s { found = 1 } END { exit !found }' /proc/self/mounts; then
    echo "packages: $root still mounted; not deleting $scratch" >&2; return
  fi
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
mkdir -p "$scratch/upper" "$scratch/work" "$root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
fails=0
check() {  # check NAME EXPECTED GOT
  if [ "$2" = "$3" ]; then echo "   ok   $1"; else echo "   FAIL $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}

debs=("$repo"/dist/appleshark_*+ws"$ws".*_amd64.deb)
[ -f "${debs[0]}" ] || die "no dist/appleshark_*+ws$ws.*_amd64.deb (packaging/build-packages.sh $suite)"
deb=${debs[-1]}
mkdir -p "$root/tmp/pkgtest"
cp "$deb" "$repo"/samples/*.pcap "$root/tmp/pkgtest/"
for other in "$repo"/dist/appleshark_*_amd64.deb; do
  case $other in *+ws"$ws".*) ;; *) cp "$other" "$root/tmp/pkgtest/other-${other##*/}" ;; esac
done
echo "== $suite (Wireshark $ws): ${deb##*/}"

in_root apt-get -q update >/dev/null 2>&1 || echo "   (apt-get update failed; using the chroot's package lists)"
# Every file and folder, apart from what apt and dpkg keep for themselves and scratch space.
snapshot() {
  in_root find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /run \
      -o -path /var/cache -o -path /var/lib/apt -o -path /var/log -o -path /var/lib/dpkg/status \
      -o -path /var/lib/dpkg/status-old -o -path /var/lib/dpkg/lock\* -o -path /var/lib/dpkg/triggers \
      -o -path /var/lib/dpkg/updates \) -prune -o -print | sort
}
snapshot >"$scratch/before"

out=$(in_root apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "/tmp/pkgtest/${deb##*/}" 2>&1) ||
  { printf '%s\n' "$out"; die "$suite: apt-get install ${deb##*/} failed"; }
so=/usr/lib/x86_64-linux-gnu/wireshark/plugins/$ws/epan/appleshark.so
snapshot >"$scratch/installed"
# The file lists do see the package (so "nothing left behind" below means something).
check "the file list shows the installed .so" "> $so" "$(diff "$scratch/before" "$scratch/installed" | grep -x -F "> $so" || true)"
check "dpkg: appleshark installed" "install ok installed" "$(in_root dpkg-query -W -f='${Status}' appleshark 2>/dev/null)"
check "the .so is in the global plugin folder" yes "$([ -f "$root$so" ] && echo yes || echo no)"
check "copyright and changelog" yes "$([ -f "$root/usr/share/doc/appleshark/copyright" ] && [ -f "$root/usr/share/doc/appleshark/changelog.Debian.gz" ] && echo yes || echo no)"
check "tshark -G plugins lists it" "$so" "$(in_root tshark -G plugins 2>/dev/null | grep -i appleshark | awk -F'\t' '{print $NF}')"

ts() { in_root tshark -n -r "/tmp/pkgtest/$1" "${@:2}" 2>/dev/null; }
# Values as in tests/samples.rs (the generator's record of each sample).
check "snatmap-demo: 6 SNATMAP frames, types" "1 2 1 1 2 2" "$(ts snatmap-demo.pcap -2 -Y snatmap -T fields -e snatmap.type | paste -sd' ')"
check "apns-demo: the iMessage push, topic" "com.apple.madrid" "$(ts apns-demo.pcap -Y apns.imessage.sender -T fields -e apns.topic)"
all=$(ts facetime-demo.pcap | wc -l)
check "facetime-demo: every frame classified ($all)" "$all" "$(ts facetime-demo.pcap -Y facetime | wc -l)"
check "facetime-demo: one BYE" 1 "$(ts facetime-demo.pcap -Y 'sip.Method == "BYE"' | wc -l)"
check "mptcp-demo: two subflows annotated" "0 1" "$(ts mptcp-demo.pcap -2 -T fields -e mptcp_annot.subflow | sort -u | paste -sd' ' | sed 's/^ //')"

out=$(in_root apt-get remove -y -q -o Dpkg::Use-Pty=0 appleshark 2>&1) || { printf '%s\n' "$out"; die "$suite: apt-get remove failed"; }
snapshot >"$scratch/after"
left=$(diff "$scratch/before" "$scratch/after" || true)
check "apt-get remove leaves nothing behind (file list as before the install)" "" "$left"

# The tarball for this Wireshark minor, as a user: its install.sh puts the .so into the
# personal folder, tshark finds it there, --uninstall removes it.
tarball=("$repo"/dist/appleshark-*-wireshark-"$ws"-linux-x86_64.tar.gz)
if [ -f "${tarball[-1]}" ]; then
  home=/tmp/pkgtest/user-home
  mkdir -p "$root$home"
  tar -C "$root$home" -xzf "${tarball[-1]}"
  chown -R 65534:65534 "$root$home"; chmod -R a+rX "$root/tmp/pkgtest"
  as_user() { chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 "$@"; }
  dir=$(basename "${tarball[-1]}" .tar.gz)
  as_user sh -c "cd $home/$dir && ./install.sh" >/dev/null 2>&1 || true
  mine=$home/.local/lib/wireshark/plugins/$ws/epan/appleshark.so
  check "tarball: install.sh, tshark (as a user) lists the personal copy" "$mine" "$(as_user tshark -G plugins 2>/dev/null | grep -i appleshark | awk -F'\t' '{print $NF}')"
  check "tarball: snatmap-demo decodes" 6 "$(as_user tshark -n -r /tmp/pkgtest/snatmap-demo.pcap -Y snatmap 2>/dev/null | wc -l)"
  as_user sh -c "cd $home/$dir && ./install.sh --uninstall" >/dev/null 2>&1 || true
  check "tarball: install.sh --uninstall removes it" gone "$([ -e "$root$mine" ] && echo present || echo gone)"
else
  check "tarball for Wireshark $ws built" yes no
fi

for other in "$root"/tmp/pkgtest/other-*.deb; do
  [ -f "$other" ] || continue
  name=${other##*/other-}
  if in_root apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/pkgtest/${other##*/}" >"$scratch/other.log" 2>&1; then
    check "apt refuses $name" refused installed
  else
    check "apt refuses $name ($(grep -m1 -o 'Depends: libwireshark[^ ]*' "$scratch/other.log" || echo 'unmet dependency'))" refused refused
  fi
done
echo "   $suite: $fails failed"
[ "$fails" = 0 ]
