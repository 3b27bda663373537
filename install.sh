#!/usr/bin/env bash
# Builds appleshark from source for the Wireshark installed here, installs it into that
# version's plugin folder, and shows it working on the bundled sample capture.
# (No Rust wanted? Install the package for your Wireshark instead: README, "Install".)
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'EOF'
usage: ./install.sh [--user] [--dest DIR] [--no-demo] [--no-deps]
       ./install.sh --uninstall

  (no option)   as root: the global plugin folder; as a user: ~/.local/lib/wireshark/plugins/...
                As root on Debian/Ubuntu (apt), first installs what is missing: tshark, the
                Wireshark headers, glib headers, clang/libclang, pkg-config, a C compiler
                (apt-get update once; wireshark-common's setuid question answered "no").
                As a user it prints the one command to run as root first, and stops.
  --user        the personal folder even as root (tshark run as root ignores personal plugins)
  --dest DIR    install into DIR (no demo)
  --no-demo     skip the demo
  --no-deps     do not check for or install system packages
  --uninstall   remove what ./install.sh installed (global and personal folders), nothing else
  -h, --help    this text

Needs Rust 1.82 or newer (cargo, rustc) to build; Debian 12's packaged rustc 1.63 is too old:
get it from https://rustup.rs (curl --proto '=https' -sSf https://sh.rustup.rs | sh).
EOF
}

die() { printf 'appleshark install: %s\n' "$*" >&2; exit 1; }
say() { printf 'appleshark: %s\n' "$*"; }

# The oldest Rust that builds the plugin (Cargo.toml rust-version; `#[unsafe(no_mangle)]`).
RUST_MIN=1.82
# System packages (Debian names) the build and the demo need.
APT_PKGS="tshark libwireshark-dev libwiretap-dev libwsutil-dev libglib2.0-dev libclang-dev clang pkg-config gcc libc6-dev ca-certificates"

mode=auto dest="" demo=1 deps=1 action=install
while [ $# -gt 0 ]; do
  case "$1" in
    --user) mode=user ;;
    --dest) dest=${2:?--dest needs a directory}; shift ;;
    --no-demo) demo=0 ;;
    --no-deps) deps=0 ;;
    --uninstall) action=uninstall ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

is_root() { [ "$(id -u)" = 0 ]; }

# ---- what was installed: one manifest per scope, listing the files and the folders this
# script created (so --uninstall removes exactly those).
manifest_for_scope() {  # global|personal
  if [ "$1" = global ]; then echo /var/lib/appleshark/install-manifest
  else echo "${XDG_DATA_HOME:-$HOME/.local/share}/appleshark/install-manifest"; fi
}

# Is FILE owned by a Debian package (the appleshark .deb)? Then dpkg removes it, not us.
dpkg_owner() { command -v dpkg-query >/dev/null 2>&1 && dpkg-query -S "$1" 2>/dev/null | cut -d: -f1 | head -n1; }

uninstall() {
  local scopes=(personal) scope man removed=0 line owner
  is_root && scopes=(global personal)
  for scope in "${scopes[@]}"; do
    man=$(manifest_for_scope "$scope")
    [ -f "$man" ] || continue
    # Files first, then folders deepest first (only if empty: something else may live there).
    while IFS= read -r line; do
      case "$line" in
        file\ *) f=${line#file }
          [ -e "$f" ] || continue
          owner=$(dpkg_owner "$f" || true)
          if [ -n "$owner" ]; then say "kept $f (belongs to the package $owner: apt-get remove $owner)"; continue; fi
          rm -f -- "$f" && say "removed $f" && removed=$((removed + 1)) ;;
      esac
    done <"$man"
    grep '^dir ' "$man" | sed 's/^dir //' | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
      while IFS= read -r d; do [ -d "$d" ] && rmdir -- "$d" 2>/dev/null && say "removed folder $d"; done || true
    rm -f -- "$man"
    rmdir -- "$(dirname "$man")" 2>/dev/null || true
  done
  # An appleshark.so that an older ./install.sh (without a manifest) put in the usual places.
  local bases=("$HOME/.local/lib/wireshark/plugins")
  is_root && bases+=(/usr/lib/*/wireshark/plugins /usr/local/lib/wireshark/plugins)
  local b
  for b in "${bases[@]}"; do for f in "$b"/*/epan/appleshark.so; do
    [ -f "$f" ] || continue
    owner=$(dpkg_owner "$f" || true)
    if [ -n "$owner" ]; then say "kept $f (belongs to the package $owner: apt-get remove $owner)"; continue; fi
    rm -f -- "$f" && say "removed $f (installed without a manifest)" && removed=$((removed + 1))
  done; done
  [ "$removed" -gt 0 ] || say "nothing to remove (no appleshark.so installed by ./install.sh found)"
  if ! is_root && ls /usr/lib/*/wireshark/plugins/*/epan/appleshark.so >/dev/null 2>&1; then
    say "a global copy is left (run ./install.sh --uninstall as root, or apt-get remove appleshark)"
  fi
}

if [ "$action" = uninstall ]; then uninstall; exit 0; fi

# ---- Rust -----------------------------------------------------------------------------------
ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
if ! command -v cargo >/dev/null || ! command -v rustc >/dev/null; then
  die "cargo/rustc not found. appleshark needs Rust $RUST_MIN or newer (Debian 12's packaged rustc 1.63 is too old).
  Get it with rustup:  curl --proto '=https' -sSf https://sh.rustup.rs | sh   (then: . \"\$HOME/.cargo/env\")
  Or skip building: install the package for your Wireshark (README, \"Install\")."
fi
rust_ver=$(rustc --version | awk '{print $2}')
ver_ge "${rust_ver%%-*}" "$RUST_MIN" ||
  die "rustc $rust_ver is too old: appleshark needs Rust $RUST_MIN or newer (rustup update, or https://rustup.rs)."

# ---- system packages ------------------------------------------------------------------------
have_libclang() {
  ldconfig -p 2>/dev/null | grep 'libclang[-.0-9]*\.so' >/dev/null ||
    ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* >/dev/null 2>&1
}
missing_deps() {
  command -v tshark >/dev/null || echo tshark
  command -v pkg-config >/dev/null || echo pkg-config
  command -v cc >/dev/null || echo "C compiler"
  if command -v pkg-config >/dev/null; then
    pkg-config --exists wireshark 2>/dev/null || [ -n "${APPLESHARK_WS_INCLUDE:-}" ] || echo "Wireshark headers"
    pkg-config --exists glib-2.0 2>/dev/null || echo "glib headers"
  fi
  have_libclang || echo libclang
  [ -e /etc/ssl/certs/ca-certificates.crt ] || echo "CA certificates"
}
if [ "$deps" = 1 ]; then
  missing=$(missing_deps | paste -sd, - | sed 's/,/, /g')
  if [ -n "$missing" ]; then
    cmd="apt-get update && echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $APT_PKGS"
    if ! command -v apt-get >/dev/null; then
      die "missing: $missing. Install them with your package manager (Debian names: $APT_PKGS), or re-run with --no-deps."
    elif ! is_root; then
      printf 'appleshark install: missing: %s. Run this first, as root (e.g. with sudo), then ./install.sh again:\n\n  %s\n\n' "$missing" "sudo sh -c \"$cmd\"" >&2
      exit 1
    fi
    say "installing what is missing ($missing) with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || die "apt-get update failed"
    # A plugin only loads into the Wireshark it was built for: do not install 300 MB for a
    # Wireshark this tree does not support (e.g. 4.2 on Ubuntu 24.04).
    if ! command -v tshark >/dev/null; then
      cand=$(apt-cache policy tshark 2>/dev/null | awk '$1 == "Candidate:" {print $2}')
      cand_mm=$(printf '%s' "${cand#*:}" | grep -oE '^[0-9]+\.[0-9]+' || true)
      case "$cand_mm" in
        4.0|4.4|4.6) ;;
        *) die "this system's apt offers Wireshark ${cand:-(none)}; appleshark supports 4.0, 4.4 and 4.6 (README, \"Where it runs\")." ;;
      esac
    fi
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $APT_PKGS || die "apt-get install failed"
  fi
fi

command -v tshark >/dev/null || die "tshark is not installed (Debian: apt-get install tshark)."

# The Wireshark that will load the plugin.
ws_full=$(tshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
[ -n "$ws_full" ] || die "could not read the version from 'tshark --version'."
ws=${ws_full%.*}
major=${ws%%.*}
if [ "$major" -lt 4 ]; then
  die "Wireshark $ws_full is installed; appleshark needs 4.0 or newer (4.0, 4.4 and 4.6 are supported)."
fi
case "$ws" in
  4.0|4.4|4.6) ;;
  *) die "Wireshark $ws_full is installed; this appleshark supports 4.0, 4.4 and 4.6 (a plugin only loads into the major.minor it was built for)." ;;
esac

# The headers it will be built against must be that same version.
if [ -n "${APPLESHARK_WS_INCLUDE:-}" ]; then
  hdr="$APPLESHARK_WS_INCLUDE/ws_version.h"
else
  pkg-config --exists wireshark 2>/dev/null ||
    die "Wireshark $ws_full is installed but its development headers are not (Debian: apt-get install libwireshark-dev; or set APPLESHARK_WS_INCLUDE, see wireshark-headers/fetch-headers.sh)."
  hdr="$(pkg-config --variable=includedir wireshark)/wireshark/ws_version.h"
  [ -f "$hdr" ] || hdr=$(pkg-config --cflags-only-I wireshark | tr ' ' '\n' | sed -n 's/^-I//p' | while read -r d; do [ -f "$d/ws_version.h" ] && echo "$d/ws_version.h"; done | head -n1)
fi
[ -f "$hdr" ] || die "Wireshark's headers have no ws_version.h ($hdr)."
hmaj=$(awk '/define WIRESHARK_VERSION_MAJOR/{print $3}' "$hdr")
hmin=$(awk '/define WIRESHARK_VERSION_MINOR/{print $3}' "$hdr")
[ "$hmaj.$hmin" = "$ws" ] || die "the headers are for Wireshark $hmaj.$hmin but tshark is $ws_full: install the matching libwireshark-dev."

say "building for Wireshark $ws_full ..."
cargo build --release --lib --quiet
so=target/release/libappleshark.so
[ -f "$so" ] || die "build produced no $so"

scope=personal
if [ -z "$dest" ]; then
  if [ "$mode" = auto ] && is_root; then
    base=$(pkg-config --variable=plugindir wireshark 2>/dev/null || true)
    [ -n "$base" ] || base="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/wireshark/plugins/$ws"
    dest="$base/epan"
    scope=global
  else
    dest="$HOME/.local/lib/wireshark/plugins/$ws/epan"
  fi
else
  is_root && case "$dest" in "$HOME"/*) ;; *) scope=global ;; esac
fi
owner=$(dpkg_owner "$dest/appleshark.so" || true)
[ -z "$owner" ] || die "$dest/appleshark.so belongs to the package $owner: apt-get remove $owner first (or use --user)."

# Folders this install creates (recorded, so --uninstall removes them again if empty).
created=()
d=$dest
while [ ! -d "$d" ]; do created+=("$d"); d=$(dirname "$d"); done
mkdir -p "$dest"
install -m 0644 "$so" "$dest/appleshark.so"
man=$(manifest_for_scope "$scope")
mkdir -p "$(dirname "$man")"
{
  [ -f "$man" ] && grep -v -x -F "file $dest/appleshark.so" "$man" || true
  echo "file $dest/appleshark.so"
  for d in "${created[@]}"; do echo "dir $d"; done
} >"$man.new"
mv "$man.new" "$man"
say "installed $dest/appleshark.so (./install.sh --uninstall removes it)"

if [ "$demo" = 1 ] && [ "$dest" != "${dest#"$HOME"}" -o "$(id -u)" = 0 ]; then
  if is_root && [ "$dest" != "${dest#"$HOME"}" ] && [ "$HOME" != / ]; then
    say "(installed for root's personal folder; tshark run as root ignores it, so no demo)"
    exit 0
  fi
  echo
  echo "\$ tshark -G plugins | grep appleshark"
  tshark -G plugins 2>/dev/null | grep appleshark || die "tshark does not list the plugin"
  echo
  echo "\$ tshark -r samples/snatmap-demo.pcap -2 -Y snatmap"
  tshark -r samples/snatmap-demo.pcap -2 -n -Y snatmap 2>/dev/null
fi
