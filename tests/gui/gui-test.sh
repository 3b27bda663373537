#!/usr/bin/env bash
# The GUI test: Wireshark's Qt GUI (Debian's wireshark-qt) with the freshly built plugin, under
# Xvfb, on every bundled sample with a display filter for its protocol. For each sample it
# selects a packet, expands the protocol's subtree, writes screenshots of the packet list and of
# the expanded tree (docs/screenshots/<filter>-packet-list.png, <filter>-tree.png), and checks
# by listing X windows and by OCR (tesseract) that:
#   - no extra top-level window (a plugin error dialog, any other dialog) exists;
#   - the protocol's name (or the plugin's own text) is in the packet list (a whole word, as OCR
#     reads it);
#   - the protocol's tree item is in the details pane, and a field of it shows once expanded
#     (and not before);
# plus a negative control (a broken appleshark.so makes Wireshark show its "Couldn't load
# plugin" dialog, and this test sees it) and that every sample in tests/support/samples.rs's
# all() has a row in the table below.
#
#   tests/gui/gui-test.sh              build, install missing packages (root), run, write PNGs
#   tests/gui/gui-test.sh --no-apt     never run apt-get (fail if a tool is missing)
#   tests/gui/gui-test.sh --out DIR    write the screenshots into DIR (default docs/screenshots)
#   tests/gui/gui-test.sh --keep       keep the temporary folder (always kept on failure)
#   tests/gui/gui-test.sh --no-control skip the broken-plugin negative control
#   tests/gui/gui-test.sh --check-tools exit 0 if every tool is installed, else list what is not
#
# Root: installs what is missing (apt-get), runs Wireshark as `nobody` (root ignores personal
# plugins). A normal user: runs Wireshark as that user. APPLESHARK_PLUGIN=<.so> skips the build.
# See docs/gui.md.
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

# ---------------------------------------------------------------------------------------------
# The samples. One row per sample: file in samples/ | display filter | a word the plugin puts
# in the packet list (the protocol's name where the plugin fills the Protocol column) | text of
# the protocol's tree item (its start is enough) | a field label shown only once that item is
# expanded | which displayed packet to select (1 = the first; optional). Add a row when you add
# a sample to tests/support/samples.rs. The screenshots are named after the display filter.
#
# snatmap: packet 2 is the first response: it shows the decoded mapped address, the request link,
# the round-trip time and the NAT analysis (the first packet, a request, has five fields).
# apns: packet 4 is the iMessage push (topic com.apple.madrid, binary plist envelope).
# facetime: the FaceTime dissector hands each packet on to SIP, STUN, RTP, RTCP or SNATMAP,
# which fill the Protocol column; "RTP" shows because of it (stock Wireshark shows the media
# on this port as UDP data). Packet 5 is the INVITE (the call's caller, callee, Call-ID).
# mptcp_annot: a post-dissector; Wireshark's TCP fills the Protocol column ("MPTCP") and the
# plugin appends "[MPTCP <connection>/<subflow> DSN=… DLen=… DACK=…]" to the Info column.
# Packet 11 is the first data on the joined (cellular) subflow.
SAMPLES='
snatmap-demo.pcap  | snatmap     | SNATMAP  | SNATMAP (Apple NAT mapping)                        | Mapped address:                | 2
apns-demo.pcap     | apns        | APNs     | Apple Push Notification service (courier), Message | Command: Message               | 4
facetime-demo.pcap | facetime    | RTP      | FaceTime (shared UDP port), SIP                    | Caller:                        | 5
mptcp-demo.pcap    | mptcp_annot | DLen=600 | Multipath TCP annotations (appleshark)             | Relative data sequence number: | 11
'
# ---------------------------------------------------------------------------------------------

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
out_dir=docs/screenshots keep=0 apt=1 control=1 check_tools=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out_dir=${2:?--out needs a directory}; shift ;;
    --keep) keep=1 ;;
    --no-apt) apt=0 ;;
    --no-control) control=0 ;;
    --check-tools) check_tools=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gui-test: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'gui-test: %s\n' "$*"; }
die() { printf 'gui-test: %s\n' "$*" >&2; exit 2; }
passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'gui-test: ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'gui-test: FAIL  %s\n' "$*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

start=$(date +%s)
is_root=0; [ "$(id -u)" = 0 ] && is_root=1

# --- tools --------------------------------------------------------------------------------------
# command -> Debian package
need='wireshark:wireshark-qt tshark:tshark Xvfb:xvfb xdotool:xdotool import:imagemagick
convert:imagemagick tesseract:tesseract-ocr xwininfo:x11-utils setpriv:util-linux'
missing=()
for pair in $need; do
  cmd=${pair%%:*} pkg=${pair#*:}
  [ "$cmd" = setpriv ] && [ $is_root = 0 ] && continue
  command -v "$cmd" >/dev/null || missing+=("$pkg")
done
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || missing+=(fonts-dejavu-core)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata 2>/dev/null)" ] || missing+=(tesseract-ocr-eng)
if [ $check_tools = 1 ]; then
  [ ${#missing[@]} = 0 ] && exit 0
  echo "gui-test: missing: $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"; exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [ $apt = 1 ] && [ $is_root = 1 ] || die "missing: ${missing[*]} (as root: apt-get install --no-install-recommends ${missing[*]})"
  say "installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- the plugin ---------------------------------------------------------------------------------
ws_full=$(tshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
[ -n "$ws_full" ] || die "could not read the version from 'tshark --version'"
ws=${ws_full%.*}
gui_full=$(wireshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true)
[ "$gui_full" = "$ws_full" ] || die "wireshark is $gui_full but tshark is $ws_full"
if [ -n "${APPLESHARK_PLUGIN:-}" ]; then
  so=$APPLESHARK_PLUGIN
else
  say "building the plugin for Wireshark $ws_full ..."
  nice cargo build --release --lib --quiet
  so=target/release/libappleshark.so
fi
[ -f "$so" ] || die "no plugin at $so"

tmp=$(mktemp -d /tmp/appleshark-gui.XXXXXX)
chmod 755 "$tmp"
xvfb_pid="" ws_pids=()
cleanup() {
  local p
  for p in "${ws_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ $keep = 1 ] || [ $failed -gt 0 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# A HOME with the plugin in its personal folder and Wireshark's settings: a fixed window
# geometry and pane size (the crops below depend on them), no bytes pane, no first-run dialogs.
make_home() { # <dir> <plugin file>
  local h=$1 c=$1/.config/wireshark
  mkdir -p "$h/.local/lib/wireshark/plugins/$ws/epan" "$c" "$h/run"
  install -m 0644 "$2" "$h/.local/lib/wireshark/plugins/$ws/epan/appleshark.so"
  cat >"$c/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $WIN_W
gui.geometry_main_height: $WIN_H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
EOF
  cat >"$c/recent" <<EOF
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.geometry_main_upper_pane: $LIST_PANE
EOF
  chmod -R a+rX "$h"
  chmod 700 "$h/run"
  [ $is_root = 1 ] && chown -R 65534:65534 "$h"
  return 0
}

# Screen, window and the panes' places in it (Wireshark 4.0 Qt, DejaVu fonts, these settings):
# the packet list (with its header) is y 89..329, the details pane starts at 334 and ends 23 px
# above the window's bottom (the status bar).
SCREEN_W=1280 SCREEN_H=1000 WIN_W=1280 WIN_H=960 LIST_PANE=240
LIST_X=1 LIST_Y=90 LIST_W=1278 LIST_H=239
TREE_X=1 TREE_Y=335 TREE_W=1262 TREE_H=$((WIN_H - 23 - 335))

home=$tmp/home noplug=$tmp/no-global-plugins
mkdir -p "$noplug" "$tmp/samples" "$tmp/shots"
make_home "$home" "$so"
chmod -R a+rX "$noplug"

if [ $is_root = 1 ]; then runas=(setpriv --reuid=65534 --regid=65534 --clear-groups); else runas=(); fi
envs() { # <home>
  printf '%s\n' env -i "HOME=$1" "PATH=/usr/bin:/bin" "LANG=C.UTF-8" "DISPLAY=$DISPLAY" \
    "XDG_RUNTIME_DIR=$1/run" "WIRESHARK_PLUGIN_DIR=$noplug"
}

# --- the display --------------------------------------------------------------------------------
Xvfb -displayfd 3 -noreset -screen 0 "${SCREEN_W}x${SCREEN_H}x24" -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || die "Xvfb did not start: $(cat "$tmp/xvfb.log")"
export DISPLAY=:$(head -n1 "$tmp/display")
root_id=$(xwininfo -root | awk '/Window id:/{print $4}')
root_id=$((root_id))

# --- helpers ------------------------------------------------------------------------------------
# Viewable top-level windows: "<id> <name>" per line.
windows() {
  local id
  for id in $(xdotool search --maxdepth 1 --onlyvisible --name '' 2>/dev/null); do
    [ "$id" = "$root_id" ] && continue
    printf '%s %s\n' "$id" "$(xdotool getwindowname "$id" 2>/dev/null)"
  done
}
# OCR of a region of a screenshot: one text line per output line, as "<x> <y> <w> <h>\t<text>",
# x/y/w/h in the region's own pixels: the box of the line's first word with a letter or digit
# (not a tree's expander arrow).
ocr() { # <png> <w> <h> <x> <y> <out.txt>
  convert "$1" -crop "$2x$3+$4+$5" +repage -colorspace Gray -resize 200% "$6.png"
  tesseract "$6.png" - --psm 6 tsv 2>/dev/null | awk -F'\t' '
    NR > 1 && $1 == 5 && $12 != "" {
      k = $3 "." $4 "." $5
      if (!(k in text)) { order[n++] = k; text[k] = $12 } else text[k] = text[k] " " $12
      if (!(k in x) && $12 ~ /[A-Za-z0-9]/) { x[k] = int($7 / 2); y[k] = int($8 / 2); w[k] = int($9 / 2); h[k] = int($10 / 2) }
    }
    END { for (i = 0; i < n; i++) { k = order[i]; printf "%d %d %d %d\t%s\n", x[k], y[k], w[k], h[k], text[k] } }' >"$6"
}
shot() { import -window root "$1"; }
# Writes a screenshot crop for README: palette PNG, no metadata.
save_png() { # <src> <w> <h> <x> <y> <dest>
  convert "$1" -crop "$2x$3+$4+$5" +repage -strip -colors 128 "PNG8:$6"
}
# Height of a pane crop's content: the lowest non-white row + a margin.
content_height() { # <src> <w> <h> <x> <y>
  local g
  g=$(convert "$1" -crop "$2x$3+$4+$5" +repage -bordercolor white -border 1 -fuzz 3% -trim -format '%h %Y' info: 2>/dev/null || echo "")
  set -- $g "$3"
  [ $# -ge 3 ] || { echo "$3"; return; }
  local bottom=$(($1 + ${2#+} + 8))
  [ "$bottom" -lt "$3" ] && echo "$bottom" || echo "$3"
}
start_ws() { # <home> <sample path> <filter> <log>
  local -a e; mapfile -t e < <(envs "$1")
  "${runas[@]}" "${e[@]}" wireshark -o 'gui.qt.font_name:DejaVu Sans Mono,10' -r "$2" -Y "$3" >"$4" 2>&1 &
  ws_pid=$!
  ws_pids+=("$ws_pid")
}
stop_ws() { # quit politely (Ctrl+Q), then kill
  local w=$1
  [ -n "$w" ] && { xdotool windowfocus --sync "$w" key ctrl+q 2>/dev/null || true; }
  for _ in $(seq 30); do kill -0 "$ws_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$ws_pid" 2>/dev/null || true
  wait "$ws_pid" 2>/dev/null || true
}
# Waits up to <secs> for a viewable top-level window named exactly <name> and prints its id.
# Gives up early when other windows stay up for 2 s without it (a modal dialog blocks loading).
wait_main() { # <name> <secs>
  local id name main="" others=0 extra
  for _ in $(seq $(($2 * 4))); do
    extra=""
    while read -r id name; do
      [ -z "$id" ] && continue
      if [ "$name" = "$1" ]; then main=$id; else extra=1; fi
    done < <(windows)
    [ -n "$main" ] && break
    if [ -n "$extra" ]; then others=$((others + 1)); else others=0; fi
    [ $others -ge 8 ] && break
    sleep 0.25
  done
  echo "$main"
}
# Other windows than <main>: prints each with the OCR of its content.
extra_windows() { # <main id>
  local id name geo
  windows | while read -r id name; do
    [ "$id" = "$1" ] && continue
    geo=$(xdotool getwindowgeometry --shell "$id" 2>/dev/null | tr '\n' ' ') || continue
    eval "$geo"
    shot "$tmp/dialog.png"
    ocr "$tmp/dialog.png" "$WIDTH" "$HEIGHT" "$X" "$Y" "$tmp/dialog.txt" || true
    printf 'window %s "%s" %sx%s: %s\n' "$id" "$name" "$WIDTH" "$HEIGHT" "$(cut -f2 "$tmp/dialog.txt" | tr '\n' ' ')"
  done
}
has_line() { cut -f2 "$1" | grep -qF -- "$2"; }
count_word() { cut -f2 "$1" | tr ' ' '\n' | grep -cxF -- "$2" || true; }

# --- the table covers every sample ------------------------------------------------------------------
table=$(printf '%s\n' "$SAMPLES" | sed '/^[[:space:]]*$/d')
listed=$(sed -n '/pub fn all()/,/^}/p' tests/support/samples.rs | grep -oE '"[^"]+\.pcap(ng)?"' | tr -d '"' | sort -u)
[ -n "$listed" ] || fail "found no sample names in tests/support/samples.rs's all()"
for s in $listed; do
  if printf '%s\n' "$table" | awk -F'|' '{gsub(/ /, "", $1); print $1}' | grep -qxF "$s"; then
    pass "$s (from tests/support/samples.rs) has a row in the table"
  else
    fail "$s is in tests/support/samples.rs's all() but has no row in tests/gui/gui-test.sh's SAMPLES table"
  fi
done

# --- the plugin loads (tshark as the same user, same HOME) ------------------------------------------
mapfile -t e < <(envs "$home")
plugins=$("${runas[@]}" "${e[@]}" tshark -G plugins 2>&1 || true)
check "tshark lists appleshark.so from the test HOME ($home)" \
  grep -qF "$home/.local/lib/wireshark/plugins/$ws/epan/appleshark.so" <<<"$plugins"

mkdir -p "$out_dir"
declare -A used_names=()
# --- each sample --------------------------------------------------------------------------------------
trim() { local v=$1; v=${v#"${v%%[![:space:]]*}"}; printf '%s' "${v%"${v##*[![:space:]]}"}"; }
while IFS='|' read -r sample filter proto label field row; do
  sample=$(trim "$sample") filter=$(trim "$filter") proto=$(trim "$proto") label=$(trim "$label")
  field=$(trim "$field") row=$(trim "${row:-1}"); row=${row:-1}
  name=$(printf '%s' "$filter" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-')
  [ -n "${used_names[$name]:-}" ] && name="$name-${sample%.*}"
  used_names[$name]=1
  t="[$sample -Y '$filter']"
  failed_before=$failed
  if [ ! -f "samples/$sample" ]; then fail "$t samples/$sample exists"; continue; fi
  install -m 0644 "samples/$sample" "$tmp/samples/$sample"

  start_ws "$home" "$tmp/samples/$sample" "$filter" "$tmp/$name.log"
  main=$(wait_main "$sample" 30)
  if [ -z "$main" ]; then
    fail "$t Wireshark opened the file (no window titled '$sample' within 30 s; other windows: $(extra_windows "" | tr '\n' ';'))"
    stop_ws ""; continue
  fi
  pass "$t Wireshark opened the file (window '$sample')"

  # Select the packet: Go → First Packet (Ctrl+Home), Go → Next Packet (Ctrl+Down).
  xdotool windowfocus --sync "$main" || true
  xdotool key ctrl+Home || true
  for _ in $(seq 2 "$row"); do xdotool key ctrl+Down || true; done
  xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1)) || true

  # The packet list: poll until the protocol's name and its tree item show (still loading?).
  n=0 deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ]; do
    sleep 0.5
    shot "$tmp/$name-1.png"
    ocr "$tmp/$name-1.png" $LIST_W $LIST_H $LIST_X $LIST_Y "$tmp/$name-list.txt"
    ocr "$tmp/$name-1.png" $TREE_W $TREE_H $TREE_X $TREE_Y "$tmp/$name-tree0.txt"
    n=$(count_word "$tmp/$name-list.txt" "$proto")
    [ "$n" -gt 0 ] && has_line "$tmp/$name-tree0.txt" "$label" && break
  done
  check "$t the packet list shows '$proto' ($n rows read)" [ "$n" -gt 0 ]
  save_png "$tmp/$name-1.png" $LIST_W "$(content_height "$tmp/$name-1.png" $LIST_W $LIST_H $LIST_X $LIST_Y)" \
    $LIST_X $LIST_Y "$tmp/shots/$name-packet-list.png"

  # The details pane, collapsed: the protocol's item is there; its field is not (yet).
  item=$(cut -f2 "$tmp/$name-tree0.txt" | grep -nF -- "$label" | head -n1 | cut -d: -f1 || true)
  if [ -z "$item" ]; then
    fail "$t the details pane has the item '$label' (read: $(cut -f2 "$tmp/$name-tree0.txt" | tr '\n' '|'))"
  else
    pass "$t the details pane has the item '$label'"
    check "$t '$field' is not shown before expanding" eval '! has_line "$tmp/$name-tree0.txt" "$field"'
    # Click the item, View → Expand Subtrees (Shift+Right).
    read -r ix iy iw ih _ < <(sed -n "${item}p" "$tmp/$name-tree0.txt")
    xdotool mousemove $((TREE_X + ix + iw / 2)) $((TREE_Y + iy + ih / 2)) click 1 || true
    sleep 0.3
    xdotool key shift+Right || true
    xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1)) || true
    deadline=$((SECONDS + 8))
    while [ $SECONDS -lt $deadline ]; do
      sleep 0.5
      shot "$tmp/$name-2.png"
      ocr "$tmp/$name-2.png" $TREE_W $TREE_H $TREE_X $TREE_Y "$tmp/$name-tree.txt"
      has_line "$tmp/$name-tree.txt" "$field" && break
    done
    check "$t expanded, the tree shows '$field'" has_line "$tmp/$name-tree.txt" "$field"
    save_png "$tmp/$name-2.png" $TREE_W "$(content_height "$tmp/$name-2.png" $TREE_W $TREE_H $TREE_X $TREE_Y)" \
      $TREE_X $TREE_Y "$tmp/shots/$name-tree.png"
  fi

  # No dialog (a plugin load error, a warning) next to the main window.
  extra=$(extra_windows "$main")
  if [ -z "$extra" ]; then
    pass "$t no other window than the main one"
  else
    fail "$t no other window than the main one: $extra"
  fi
  if grep -qiE "appleshark|couldn.t load plugin|panicked" "$tmp/$name.log"; then
    fail "$t Wireshark's log mentions the plugin: $(grep -iE 'appleshark|couldn.t load plugin|panicked' "$tmp/$name.log" | head -n3)"
  else
    pass "$t Wireshark's log has no plugin error"
  fi
  stop_ws "$main"
  # The screenshots go to the output folder only when every check of this sample passed.
  if [ $failed = "$failed_before" ]; then
    cp "$tmp/shots/$name-packet-list.png" "$tmp/shots/$name-tree.png" "$out_dir/"
    say "wrote $out_dir/$name-packet-list.png ($(stat -c %s "$out_dir/$name-packet-list.png") bytes), $out_dir/$name-tree.png ($(stat -c %s "$out_dir/$name-tree.png") bytes)"
  else
    say "screenshots of the failed run: $tmp/shots/$name-*.png, full screen: $tmp/$name-[12].png"
  fi
done <<<"$table"

# --- negative control: a broken plugin brings up the dialog, and the check above sees it -------------
if [ $control = 1 ]; then
  first=$(printf '%s\n' "$table" | head -n1)
  sample=$(echo "${first%%|*}" | tr -d ' ')
  echo "not a shared library" >"$tmp/broken.so"
  make_home "$tmp/home-broken" "$tmp/broken.so"
  start_ws "$tmp/home-broken" "$tmp/samples/$sample" frame "$tmp/broken.log"
  main=$(wait_main "$sample" 30)
  sleep 0.5
  seen=$(extra_windows "$(xdotool search --maxdepth 1 --onlyvisible --name '^The Wireshark Network Analyzer$|^'"${sample//./\\.}"'$' 2>/dev/null | head -n1)")
  check "negative control: with a broken appleshark.so the test sees Wireshark's plugin error dialog (${seen:-no window})" \
    grep -qiE "load plugin" <<<"$seen"
  stop_ws ""
fi

say "$passed passed, $failed failed ($(($(date +%s) - start)) s)"
[ $failed = 0 ]
