#!/usr/bin/env bash
# tests/fresh-machine/run.sh [--full] [SUITE...]   (default: bookworm trixie)
#
# README's first command on a fresh machine: a bare `debootstrap --variant=minbase` Debian
# (bookworm: Wireshark 4.0, trixie: 4.4) with nothing but the host's Rust toolchain
# bind-mounted in (read-only), a clean `git clone` of this repository's HEAD, then
# `./install.sh` as root must install what is missing with apt, build, install and end with
# the SNATMAP demo. Before that, in the same bare system: without Rust on PATH it must say
# which Rust is needed, and as a user it must print the apt-get command and fail.
#
# --full (not in run-tests.sh: ≈ 45 min per suite): after the install, README's second
# command, `./run-tests.sh`, must pass in the same system, with the global copy installed;
# then --uninstall. The chroot gets /dev, /sys and the host's cache folder (the tshark
# chroots, headers and downloads the multi-version and package tests use, so they are not
# rebuilt); inside it the fresh-machine test itself is not run again (it would need the
# minbase chroot it is running in: run-tests.sh sees /etc/appleshark-fresh-machine).
#
# Cached (outside the repo) in ${APPLESHARK_CACHE:-~/.cache/appleshark}:
#   chroot/<suite>-minbase      the pristine system (tests/multiversion/make-chroot.sh --bare),
#                               never changed: every run works in a throw-away overlay on it
#   fresh/apt-archives/<suite>  downloaded .debs (bind-mounted as /var/cache/apt/archives)
#   fresh/cargo-home            downloaded crates (the chroot's CARGO_HOME; no build output)
# Mounts live in a private mount namespace and are unmounted on exit. Needs root.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
die() { printf 'fresh-machine: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
cache=${APPLESHARK_CACHE:-$HOME/.cache/appleshark}

if [ "${APPLESHARK_INNER:-}" != 1 ]; then
  if [ "${1:-}" = --full ]; then export APPLESHARK_FRESH_FULL=1; shift; fi
  suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
  command -v rustc >/dev/null || die "no Rust toolchain on this host to bind-mount"
  # The toolchain itself (cargo, rustc, std), not rustup's proxies.
  sysroot=$(rustc --print sysroot)
  [ -x "$sysroot/bin/cargo" ] || die "no cargo in $sysroot/bin"
  export APPLESHARK_FRESH_SYSROOT=$sysroot
  echo "fresh-machine: $(git log -1 --format='%h %s' | cut -c1-70); toolchain $sysroot"
  # shellcheck source=tests/support/each-chroot.sh
  . tests/support/each-chroot.sh
  in_each_chroot fresh-machine --bare "${suites[@]}"
  exit $?
fi

# ---- inside the mount namespace: one suite
suite=$1 base=$APPLESHARK_BASE sysroot=$APPLESHARK_FRESH_SYSROOT
case $suite in bookworm) ws=4.0 ;; trixie) ws=4.4 ;; *) die "unknown suite $suite (bookworm or trixie)" ;; esac
mkdir -p "$cache/fresh/apt-archives/$suite/partial" "$cache/fresh/cargo-home"
scratch=$(mktemp -d "$cache/fresh/run-$suite.XXXXXX")
root=$scratch/root
mounts=()
cleanup() {
  local i
  for (( i=${#mounts[@]}-1; i>=0; i-- )); do umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true; done
  # Never delete through a mount that is still there (/dev, /sys, the cache with --full).
  if awk -v s="$scratch" 'index($2, s) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
    echo "fresh-machine: mounts left under $scratch; not deleting it" >&2; return
  fi
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
bind() {  # bind SRC DEST [ro]
  mkdir -p "$2"; mount --bind "$1" "$2"; mounts+=("$2")
  [ "${3:-}" != ro ] || mount -o remount,bind,ro "$2"
}
mkdir -p "$scratch/upper" "$scratch/work" "$root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$scratch/upper,workdir=$scratch/work" "$root"; mounts+=("$root")
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
bind "$sysroot" "$root/opt/rust" ro
bind "$cache/fresh/cargo-home" "$root/var/cache/cargo-home"
bind "$cache/fresh/apt-archives/$suite" "$root/var/cache/apt/archives"
[ -s "$root/etc/resolv.conf" ] || cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The host's local CA certificates (a TLS-inspecting proxy on the way to crates.io needs
# them): part of this network, not of the install. update-ca-certificates adds them when
# install.sh installs ca-certificates.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
git clone -q --no-local "$repo" "$root/root/appleshark"
echo "== $suite (Wireshark $ws): bare minbase + the host's Rust ($(chroot "$root" /opt/rust/bin/rustc --version))"

fails=0
shown=""
expect() {  # expect NAME PATTERN FILE
  if grep -qF -- "$2" "$3"; then echo "   ok   $1"; return; fi
  echo "   FAIL $1: no '$2' in the output of ${3##*/}"
  fails=$((fails + 1))
  case " $shown " in *" $3 "*) ;; *) shown="$shown $3"; sed 's/^/      | /' "$3" | tail -n 25 ;; esac
}
run_in() {  # run_in PATH USER-PREFIX... -- CMD
  local path=$1; shift
  chroot "$root" env -i PATH="$path" HOME=/root CARGO_HOME=/var/cache/cargo-home LANG=C.UTF-8 TERM=dumb "$@"
}
sys=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# 1. No Rust on PATH: it says which Rust is needed, and fails.
if run_in "$sys" sh -c 'cd /root/appleshark && ./install.sh' >"$scratch/norust.log" 2>&1; then
  echo "   FAIL without Rust ./install.sh succeeded"; fails=$((fails + 1))
fi
expect "without Rust: names the Rust needed" "needs Rust 1.82 or newer" "$scratch/norust.log"

# 2. As a user (nobody): prints the one apt-get command to run as root first, and fails.
mkdir -p "$root/tmp/user-home"; chown 65534:65534 "$root/tmp/user-home"; chmod -R a+rX "$root/root"
chmod a+x "$root/root"
if chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="/opt/rust/bin:$sys" HOME=/tmp/user-home \
     LANG=C.UTF-8 sh -c 'cd /root/appleshark && ./install.sh' >"$scratch/user.log" 2>&1; then
  echo "   FAIL as a user without the packages ./install.sh succeeded"; fails=$((fails + 1))
fi
expect "as a user: prints the apt-get command" "apt-get install -y --no-install-recommends tshark libwireshark-dev" "$scratch/user.log"

# 3. As root: README's first command, to the end.
t0=$(date +%s)
if ! run_in "/opt/rust/bin:$sys" sh -c 'cd /root/appleshark && ./install.sh' >"$scratch/install.log" 2>&1; then
  echo "   FAIL ./install.sh as root exited with an error"; fails=$((fails + 1))
fi
echo "   ./install.sh as root: $(( $(date +%s) - t0 )) s"
expect "installs the packages it needs" "installing what is missing" "$scratch/install.log"
expect "installs into the global plugin folder" "installed /usr/lib/x86_64-linux-gnu/wireshark/plugins/$ws/epan/appleshark.so" "$scratch/install.log"
expect "tshark lists the plugin" "/usr/lib/x86_64-linux-gnu/wireshark/plugins/$ws/epan/appleshark.so" "$scratch/install.log"
expect "the SNATMAP demo: request" "SNATMAP 58 Request" "$scratch/install.log"
expect "the SNATMAP demo: response" "Response mapped 203.0.113.7:5060 (behind NAT, port preserved)" "$scratch/install.log"
expect "the SNATMAP demo: port changed" "Response mapped 203.0.113.7:61234 (behind NAT, port changed)" "$scratch/install.log"
# 4. (--full) README's second command, in the same system, with the global copy installed.
if [ "${APPLESHARK_FRESH_FULL:-}" = 1 ]; then
  mkdir -p "$root/dev" "$root/sys" "$root/root/.cache/appleshark"
  mount --rbind /dev "$root/dev"; mounts+=("$root/dev")
  mount --rbind /sys "$root/sys"; mounts+=("$root/sys")
  bind "$cache" "$root/root/.cache/appleshark"
  echo "this system is the fresh-machine test's (tests/fresh-machine/run.sh --full)" > "$root/etc/appleshark-fresh-machine"
  t0=$(date +%s)
  if run_in "/opt/rust/bin:$sys" sh -c 'cd /root/appleshark && ./run-tests.sh' >"$scratch/tests.log" 2>&1; then
    echo "   ok   ./run-tests.sh passes ($(( $(date +%s) - t0 )) s)"
  else
    echo "   FAIL ./run-tests.sh ($(( $(date +%s) - t0 )) s):"; tail -n 60 "$scratch/tests.log" | sed 's/^/      | /'
    fails=$((fails + 1))
  fi
  cp "$scratch/tests.log" "$cache/fresh/run-tests-$suite.log"
  echo "   the whole output: $cache/fresh/run-tests-$suite.log"
  grep -E '^test result:|^run-tests: |passed|FAIL' "$scratch/tests.log" | sed 's/^/      | /' | tail -n 60
fi
if run_in "/opt/rust/bin:$sys" sh -c 'cd /root/appleshark && ./install.sh --uninstall' >"$scratch/uninstall.log" 2>&1 &&
   [ ! -e "$root/usr/lib/x86_64-linux-gnu/wireshark/plugins/$ws/epan/appleshark.so" ]; then
  echo "   ok   ./install.sh --uninstall removes it"
else
  echo "   FAIL ./install.sh --uninstall:"; sed 's/^/      | /' "$scratch/uninstall.log"; fails=$((fails + 1))
fi
echo "   $suite: $fails failed"
[ "$fails" = 0 ]
