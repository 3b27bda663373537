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
#   - each of the plugin's Statistics and Telephony entries (table DIALOGS below), opened
#     through the real menu in the same Wireshark, shows the rows tshark -z prints for that
#     sample (the sample's own numbers; an empty tree/table where the sample has none of that
#     protocol), closes, and Wireshark is still running with its main window (a crash in the
#     dialog fails here); each entry is in its own menu only (FaceTime Calls in Telephony, not
#     in Statistics);
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
# tesseract: one thread (on 2 shared cores its default threads make each OCR several times slower).
export OMP_THREAD_LIMIT=1
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
snatmap-demo.pcap  | snatmap     | SNATMAP  | Apple NAT mapping                                | Mapped address:                | 2
apns-demo.pcap     | apns        | APNs     | Apple Push Notification service courier, Message | Command: Message               | 4
facetime-demo.pcap | facetime    | RTP      | Apple FaceTime, SIP                              | Caller:                        | 5
mptcp-demo.pcap    | mptcp_annot | DLen=600 | Multipath TCP annotations                        | Relative data sequence number: | 11
'

# The plugin's menu entries (every one must have a row: the test compares tshark's -z list with
# and without the plugin). One row per entry: menu | the key that opens that menu | the entry's
# text | kind (tree: a stats tree, "Topic / Item" and Count columns; table: a stat_tap_table) |
# tshark's -z argument for the same statistics (the expected rows come from tshark's output).
# Wireshark puts the stats trees a plugin registers at the bottom of the Statistics menu (after
# SOME/IP), stat tables of the "unsorted" statistics group in the Statistics menu's middle part,
# and stat tables of the Telephony group at the bottom of the Telephony menu (after VoIP Calls,
# SIP Flows, RTP, …): FaceTime's calls are there. Each is opened on every sample, and each is
# checked to be missing from the other menu of this table (on the first sample).
DIALOGS='
Statistics | alt+s | APNs Connections  | tree  | apns,tree
Statistics | alt+s | FaceTime Packets  | tree  | facetime_calls,tree
Telephony  | alt+y | FaceTime Calls    | table | facetime,calls
Statistics | alt+s | MPTCP Connections | table | mptcp_annot,conn
Statistics | alt+s | MPTCP Subflows    | table | mptcp_annot,subflows
'
# ---------------------------------------------------------------------------------------------

usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; }
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
SCREEN_W=2640 SCREEN_H=1000 WIN_W=1280 WIN_H=960 LIST_PANE=240
LIST_X=1 LIST_Y=90 LIST_W=1278 LIST_H=239
TREE_X=1 TREE_Y=335 TREE_W=1262 TREE_H=$((WIN_H - 23 - 335))
# The Statistics dialogs are moved and resized to show every row (a stats tree: 1240 px wide;
# the MPTCP connections table's 22 columns: 2620, hence the 2640 px wide screen); their tree/table widget
# is the dialog less a 10 px margin and the filter/button rows (100 px) at the bottom.
DLG_X=10 DLG_Y=40 DLG_H=900 DLG_W_TREE=1240 DLG_W_TABLE=2620

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
ocr() { # <png> <w> <h> <x> <y> <out.txt> [scale, default 2]
  local k=${7:-2}
  convert "$1" -crop "$2x$3+$4+$5" +repage -colorspace Gray -resize $((k * 100))% "$6.png"
  tesseract "$6.png" - --psm 6 tsv 2>/dev/null | awk -F'\t' -v s="$k" '
    NR > 1 && $1 == 5 && $12 != "" {
      k = $3 "." $4 "." $5
      if (!(k in text)) { order[n++] = k; text[k] = $12 } else text[k] = text[k] " " $12
      if (!(k in x) && $12 ~ /[A-Za-z0-9]/) { x[k] = int($7 / s); y[k] = int($8 / s); w[k] = int($9 / s); h[k] = int($10 / s) }
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

# --- the plugin's Statistics dialogs ----------------------------------------------------------------
# What tshark -z prints for a sample, as the rows the dialog must show (the expectation, from
# tshark's own statistics output, not from the GUI): for a tree, "name<TAB>count" per node (the
# name without its indentation); for a table, its cells, tab-separated, per row; the table's
# column titles, tab-separated, in <out>.cols.
tshark_rows() { # <kind> <-z argument> <sample path> <out>
  local -a e; mapfile -t e < <(envs "$home")
  "${runas[@]}" "${e[@]}" tshark -r "$3" -q -z "$2" >"$4.raw" 2>"$4.err" </dev/null || return 1
  if [ "$1" = tree ]; then
    # Rows: between the dashed line under the "Topic / Item" header and the next dashed line;
    # the name ends where two spaces start (the Count column).
    awk '/^Topic \/ Item/ { h = 1; next }
         h == 1 && /^-+$/ { h = 2; next }
         h == 2 && /^-+$/ { exit }
         h == 2 && NF { sub(/^ +/, ""); n = split($0, a, /  +/); print a[1] "\t" a[2] }' "$4.raw" >"$4"
    # Every count must be a number (else the format changed: fail, do not guess).
    ! awk -F'\t' '$2 !~ /^[0-9]+$/ { bad = 1 } END { exit !bad }' "$4"
  else
    # Columns: the line after "Filter for statistics:"; rows: after the line that is the title
    # alone, up to the closing "====" line. Cells are separated by "|".
    awk -v t="$(sed -n 's/:$//p' "$4.raw" | head -n1)" '
         /^Filter for statistics:/ { getline; cols = $0; next }
         $0 == t { r = 1; next }
         r && /^=+$/ { exit }
         r && NF { n = split($0, a, "|"); line = ""
                   for (i = 1; i < n; i++) { c = a[i]; gsub(/^ +| +$/, "", c); line = line (i > 1 ? "\t" : "") c }
                   print line }
         END { n = split(cols, a, "|"); line = ""
               for (i = 1; i < n; i++) { c = a[i]; gsub(/^ +| +$/, "", c); line = line (i > 1 ? "\t" : "") c }
               print line > (out ".cols") }' out="$4" "$4.raw" >"$4"
  fi
}
# Expected rows missing from an OCR reading of a dialog (prints each, cells joined by " | ").
# A row is there when an OCR line holds its words in a row: a tree row's name then its count, a
# table row's cells in column order. Numbers must be equal as numbers (the GUI shows 26.274000
# where tshark prints 26.274), the count of a tree row exactly. OCR's usual confusions are
# forgiven: O/o read for 0, l/I/| for 1 and parentheses around a lone digit ("(0)") on both
# sides; in a word of 3 or more characters one wrong, missing or extra character that is not a
# digit ("sf1l" for "sf1"); any reading of a word with non-ASCII characters (the arrow "→"
# reads as ">", "~", "-").
ocr_awk='
    function fold(t) { gsub(/[Oo]/, "0", t); gsub(/[lI|]/, "1", t); gsub(/[()]/, "", t); return t }
    function isnum(t) { return t ~ /^-?[0-9]+(\.[0-9]+)?%?$/ }
    function nd(c) { return c != "" && c !~ /[0-9]/ }
    function near(a, b,   la, lb, i) {
      la = length(a); lb = length(b)
      if (la < 3 || la - lb > 1 || lb - la > 1) return 0
      for (i = 1; i <= la && i <= lb && substr(a, i, 1) == substr(b, i, 1); i++) ;
      if (la == lb) return nd(substr(a, i, 1)) && nd(substr(b, i, 1)) && substr(a, i + 1) == substr(b, i + 1)
      if (lb > la) return nd(substr(b, i, 1)) && substr(a, i) == substr(b, i + 1)
      return nd(substr(a, i, 1)) && substr(a, i + 1) == substr(b, i)
    }
    function same(e, o,   fe, fo) {
      if (e ~ /[\200-\377]/) return 1
      fe = fold(e); fo = fold(o)
      if (isnum(fe)) return isnum(fo) && fe + 0 == fo + 0 && (fe ~ /%$/) == (fo ~ /%$/)
      return fe == fo || near(e, o)
    }
'
rows_missing() { # <expected> <ocr.txt>
  LC_ALL=C awk -F'\t' "$ocr_awk"'
    FILENAME == ARGV[1] { rows[++n] = $0; next }
    { sub(/^[^\t]*\t/, ""); lines[++m] = $0 }
    END {
      for (r = 1; r <= n; r++) {
        s = rows[r]; gsub(/\t/, " ", s); k = split(s, want, / +/); found = 0
        for (l = 1; l <= m && !found; l++) {
          g = split(lines[l], got, / +/)
          for (st = 1; st + k - 1 <= g && !found; st++) {
            ok = 1
            for (i = 1; i <= k && ok; i++) ok = same(want[i], got[st + i - 1])
            found = ok
          }
        }
        if (!found) { s = rows[r]; gsub(/\t/, " | ", s); print s }
      }
    }' "$1" "$2"
}
# Column titles (tab-separated in <cols>) missing from the OCR header line (the first): spaces
# are ignored (OCR drops some: "RTTsamples"), with the same confusions forgiven as for rows.
cols_missing() { # <cols> <ocr.txt>
  LC_ALL=C awk -F'\t' "$ocr_awk"'
    FILENAME == ARGV[1] { for (i = 1; i <= NF; i++) { t = $i; gsub(/ /, "", t); if (t != "") cols[++n] = t; title[n] = $i }; next }
    FNR == 1 { h = $2; gsub(/ /, "", h) }
    END {
      fh = fold(h)
      for (c = 1; c <= n; c++) {
        t = cols[c]; ft = fold(t); L = length(t); ok = index(fh, ft) > 0
        for (i = 1; !ok && i <= length(h); i++)
          for (d = -1; d <= 1 && !ok; d++) ok = near(t, substr(h, i, L + d))
        if (!ok) printf "%s; ", title[c]
      }
    }' "$1" "$2"
}
# OCR lines of a dialog's tree/table below its header line (the first line): the data rows.
data_lines() { # <ocr.txt>
  sed 1d "$1" | cut -f2 | grep -E '[A-Za-z0-9]' | grep -c '' || true
}
# Opens the menu <key> opens and reads it: its OCR lines in $tmp/menu.txt, the popup's place in
# X Y WIDTH HEIGHT (the caller's variables). Returns 1 (printing why) when no menu opened.
read_menu() { # <main id> <key>
  local id name geo popup=""
  xdotool windowfocus --sync "$1" key "$2" 2>/dev/null || true
  for _ in $(seq 20); do
    sleep 0.25
    while read -r id name; do
      [ -n "$id" ] && [ "$id" != "$1" ] && popup=$id
    done < <(windows)
    [ -n "$popup" ] && break
  done
  [ -n "$popup" ] || { echo "(no menu opened)"; return 1; }
  sleep 0.3
  geo=$(xdotool getwindowgeometry --shell "$popup" 2>/dev/null | tr '\n' ' ') || true
  eval "$geo"
  shot "$tmp/menu.png"
  ocr "$tmp/menu.png" "$WIDTH" "$HEIGHT" "$X" "$Y" "$tmp/menu.txt"
}
# A stock entry of each menu of the DIALOGS table: a reading of the menu that lacks it is no
# reading of that menu (so "the entry is not there" cannot pass on a menu that did not open).
declare -A MENU_WITNESS=([Statistics]="Conversations" [Telephony]="VoIP Calls")
# The menu <key> opens has the stock entry <witness> and not <entry>; closes the menu. Prints
# what the menu showed when not.
menu_lacks() { # <main id> <key> <entry> <witness>
  local X Y WIDTH HEIGHT
  read_menu "$1" "$2" || return 1
  xdotool key Escape 2>/dev/null || true
  sleep 0.3
  if cut -f2 "$tmp/menu.txt" | grep -qxF -- "$4" && ! cut -f2 "$tmp/menu.txt" | grep -qixF -- "$3"; then
    return 0
  fi
  cut -f2 "$tmp/menu.txt" | tr '\n' '|'
  return 1
}
# Opens <entry> of the menu opened by <key>: finds the entry in the popup by OCR, clicks it.
# Prints nothing and returns 0 when clicked; else prints what the menu showed. With <png>, a
# screenshot of the open menu is written there (once: when it does not exist yet).
open_menu_entry() { # <main id> <key> <entry> [png]
  local id name geo popup="" X Y WIDTH HEIGHT
  xdotool windowfocus --sync "$1" key "$2" 2>/dev/null || true
  for _ in $(seq 20); do
    sleep 0.25
    while read -r id name; do
      [ -n "$id" ] && [ "$id" != "$1" ] && popup=$id
    done < <(windows)
    [ -n "$popup" ] && break
  done
  [ -n "$popup" ] || { echo "(no menu opened)"; return 1; }
  sleep 0.3
  geo=$(xdotool getwindowgeometry --shell "$popup" 2>/dev/null | tr '\n' ' ') || true
  eval "$geo"
  shot "$tmp/menu.png"
  ocr "$tmp/menu.png" "$WIDTH" "$HEIGHT" "$X" "$Y" "$tmp/menu.txt"
  if [ -n "${4:-}" ] && [ ! -f "$4" ]; then save_png "$tmp/menu.png" "$WIDTH" "$HEIGHT" "$X" "$Y" "$4"; fi
  local n; n=$(cut -f2 "$tmp/menu.txt" | grep -nxF -- "$3" | head -n1 | cut -d: -f1 || true)
  if [ -z "$n" ]; then
    cut -f2 "$tmp/menu.txt" | tr '\n' '|'
    xdotool key Escape 2>/dev/null || true
    return 1
  fi
  local ix iy iw ih
  read -r ix iy iw ih _ < <(sed -n "${n}p" "$tmp/menu.txt")
  xdotool mousemove $((X + ix + 4)) $((Y + iy + ih / 2)) click 1 2>/dev/null || true
  xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1)) 2>/dev/null || true
}
# Waits up to <secs> for a window titled exactly <name> (returns at once if Wireshark died).
wait_window() { # <name> <secs>
  local id name
  for _ in $(seq $(($2 * 4))); do
    while read -r id name; do
      [ "$name" = "$1" ] && { echo "$id"; return 0; }
    done < <(windows)
    kill -0 "$ws_pid" 2>/dev/null || return 1
    sleep 0.25
  done
  return 1
}
window_gone() { # <id> <secs>
  for _ in $(seq $(($2 * 4))); do
    windows | awk '{print $1}' | grep -qxF "$1" || return 0
    sleep 0.25
  done
  return 1
}
# Wireshark is alive: its process runs and its main window (titled <name>) is still there.
ws_alive() { # <main id> <name>
  kill -0 "$ws_pid" 2>/dev/null && windows | grep -qxF "$1 $2"
}

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

# --- the DIALOGS table covers every statistics entry the plugin registers -------------------------
# tshark's -z list with the plugin, less the list without it: the plugin's stats trees and tables
# (each is a Statistics menu entry in the GUI).
dialogs=$(printf '%s\n' "$DIALOGS" | sed '/^[[:space:]]*$/d')
mkdir -p "$tmp/home-none/run"; chmod -R a+rX "$tmp/home-none"; chmod 700 "$tmp/home-none/run"
[ $is_root = 1 ] && chown -R 65534:65534 "$tmp/home-none"
zlist() { # <home>
  local -a e; mapfile -t e < <(envs "$1")
  "${runas[@]}" "${e[@]}" tshark -z help 2>&1 </dev/null | sed -n 's/^ \{1,\}\([^ ]\{1,\}\)$/\1/p' | sort -u || true
}
plugin_z=$(comm -23 <(zlist "$home") <(zlist "$tmp/home-none"))
[ -n "$plugin_z" ] || fail "tshark -z help lists no statistics of the plugin (compared with no plugin)"
for z in $plugin_z; do
  if printf '%s\n' "$dialogs" | awk -F'|' '{gsub(/ /, "", $5); print $5}' | grep -qxF -- "$z"; then
    pass "the plugin's statistics '-z $z' has a row in the DIALOGS table"
  else
    fail "the plugin registers '-z $z' (a Statistics menu entry) but tests/gui/gui-test.sh's DIALOGS table has no row for it"
  fi
done

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

  # The plugin's Statistics entries, through the real menu: each shows this sample's rows (as
  # tshark -z prints them), closes, and leaves Wireshark running.
  while IFS='|' read -r menu key entry kind zarg; do
    menu=$(trim "$menu") key=$(trim "$key") entry=$(trim "$entry") kind=$(trim "$kind") zarg=$(trim "$zarg")
    slug=stats-$(printf '%s' "$zarg" | tr -c 'a-z0-9\n' '-')-${sample%.*}
    d="$t $menu → $entry:"
    dfailed=$failed
    exp=$tmp/$slug.expected
    if ! tshark_rows "$kind" "$zarg" "$tmp/samples/$sample" "$exp"; then
      fail "$d tshark -z $zarg gives rows to expect ($(head -c 300 "$exp.err" "$exp" 2>/dev/null | tr '\n' ' '))"
      continue
    fi
    nexp=$(grep -c '' "$exp" || true)
    if ! ws_alive "$main" "$sample"; then
      say "$t Wireshark is gone (see above): starting it again for $entry"
      stop_ws ""
      start_ws "$home" "$tmp/samples/$sample" "$filter" "$tmp/$name-$slug.log"
      main=$(wait_main "$sample" 30)
      [ -n "$main" ] || { fail "$d Wireshark starts again"; continue; }
    fi
    menu_png=$tmp/shots/menu-$(printf '%s' "$menu" | tr 'A-Z' 'a-z').png
    if ! seen=$(open_menu_entry "$main" "$key" "$entry" "$menu_png"); then
      fail "$d the $menu menu ($key) has '$entry' (read: $seen)"
      continue
    fi
    pass "$d the $menu menu has the entry; clicked it"
    title="Wireshark · $entry · $sample"
    if ! dlg=$(wait_window "$title" 15); then
      fail "$d the dialog '$title' opened (Wireshark $(kill -0 "$ws_pid" 2>/dev/null && echo 'is running' || echo 'is gone: it crashed'); windows: $(windows | cut -d' ' -f2- | tr '\n' ';'))"
      check "$d afterwards Wireshark is still running with its main window" ws_alive "$main" "$sample"
      continue
    fi
    pass "$d the dialog '$title' opened"
    [ "$kind" = table ] && dw=$DLG_W_TABLE || dw=$DLG_W_TREE
    xdotool windowsize "$dlg" "$dw" "$DLG_H" windowmove "$dlg" "$DLG_X" "$DLG_Y" 2>/dev/null || true
    xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1)) 2>/dev/null || true
    # The widget: poll until every expected row is read (the dialog retaps the file first).
    wx=$((DLG_X + 10)) wy=$((DLG_Y + 10)) ww=$((dw - 20)) wh=$((DLG_H - 110))
    deadline=$((SECONDS + 12))
    while :; do
      sleep 0.5
      shot "$tmp/$slug.png"
      # OCR the widget down to its last line only (blank space costs time), at 3x: at 2x
      # tesseract misreads lone digits in this font.
      ch=$(content_height "$tmp/$slug.png" $((ww - 8)) $wh $((wx + 4)) $wy)
      ocr "$tmp/$slug.png" $ww "$ch" $wx $wy "$tmp/$slug.txt" 3
      missing=$(rows_missing "$exp" "$tmp/$slug.txt")
      nseen=$(data_lines "$tmp/$slug.txt")
      { [ -z "$missing" ] && [ "$nseen" = "$nexp" ]; } && break
      [ $SECONDS -ge $deadline ] && break
    done
    read_text=$(cut -f2 "$tmp/$slug.txt" | head -n 40 | tr '\n' '|')
    if [ "$kind" = tree ]; then
      # (An empty tree's first column is narrow: "Topic / Item" shows cut, "Topic / Ite…"; OCR
      # reads it as "Topic/item" at times.)
      check "$d the tree has the header 'Topic / Item' and 'Count'" eval 'head -n1 "$tmp/$slug.txt" | cut -f2 | grep -qiE "^Topic ?/ ?It.* Count "'
    else
      # Column titles, spaces ignored (OCR drops some: "RTTsamples"); the first one may be cut
      # at the left edge ("onn" for "Conn"), so it is not asked for.
      hdr_missing=$(cut -f2- "$exp.cols" >"$exp.cols2"; cols_missing "$exp.cols2" "$tmp/$slug.txt")
      check "$d the table's header has tshark's columns${hdr_missing:+ (missing: $hdr_missing)}" [ -z "$hdr_missing" ]
    fi
    if [ "$nexp" -gt 0 ]; then
      check "$d it shows all $nexp rows tshark -z $zarg gives for this sample, with their counts/cells${missing:+ (missing: $(tr '\n' ';' <<<"$missing"); read: $read_text)}" [ -z "$missing" ]
    fi
    # (An empty reading counts only while the dialog is still there: not when Wireshark died.)
    check "$d it shows $nexp data rows, as tshark does ($( [ "$nexp" = 0 ] && echo 'an empty tree/table; ')read $nseen${missing:+: $read_text})" \
      eval '[ "$nseen" = "$nexp" ] && windows | grep -q "^$dlg "'
    # (The height is measured inside the widget's frame: its side lines span the whole height.)
    save_png "$tmp/$slug.png" $ww "$ch" $wx $wy "$tmp/shots/$slug.png"
    # Close (Escape = the Close button), then Wireshark must still be there.
    xdotool windowfocus --sync "$dlg" key Escape 2>/dev/null || true
    check "$d the dialog closed (Escape)" window_gone "$dlg" 5
    sleep 0.3
    check "$d afterwards Wireshark is still running with its main window" ws_alive "$main" "$sample"
    if [ $failed = "$dfailed" ]; then
      cp "$tmp/shots/$slug.png" "$out_dir/"
      say "wrote $out_dir/$slug.png ($(stat -c %s "$out_dir/$slug.png") bytes)"
    else
      say "screenshot of the failed dialog: $tmp/shots/$slug.png, full screen: $tmp/$slug.png"
    fi
  done <<<"$dialogs"
  # Each entry is in its own menu only: not in the other menus of the DIALOGS table (FaceTime
  # Calls is in Telephony, not in Statistics). Once, in the first sample's Wireshark.
  if [ -z "${menus_checked:-}" ] && ws_alive "$main" "$sample"; then
    menus_checked=1
    while IFS='|' read -r menu key entry _ _; do
      menu=$(trim "$menu") entry=$(trim "$entry")
      while IFS='|' read -r other okey _; do
        other=$(trim "$other") okey=$(trim "$okey")
        [ "$other" = "$menu" ] && continue
        if seen=$(menu_lacks "$main" "$okey" "$entry" "${MENU_WITNESS[$other]}"); then
          pass "$t the $other menu ($okey) has '${MENU_WITNESS[$other]}' and no '$entry' (it is in $menu)"
        else
          fail "$t the $other menu ($okey) has '${MENU_WITNESS[$other]}' and no '$entry' (read: $seen)"
        fi
      done < <(printf '%s\n' "$dialogs" | awk -F'|' '!seen[$1]++')
    done <<<"$dialogs"
  fi
  if grep -qiE "appleshark|couldn.t load plugin|panicked" "$tmp/$name.log"; then
    fail "$t Wireshark's log mentions the plugin: $(grep -iE 'appleshark|couldn.t load plugin|panicked' "$tmp/$name.log" | head -n3)"
  else
    pass "$t Wireshark's log has no plugin error"
  fi
  stop_ws "$main"
  # The screenshots go to the output folder only when every check of this sample passed.
  if [ $failed = "$failed_before" ]; then
    # The menus (taken on the first sample whose menu opened): once, from a passing sample.
    for m in "$tmp"/shots/menu-*.png; do
      [ -f "$m" ] && [ ! -f "$tmp/shots/.copied-${m##*/}" ] || continue
      cp "$m" "$out_dir/" && : >"$tmp/shots/.copied-${m##*/}"
      say "wrote $out_dir/${m##*/} ($(stat -c %s "$m") bytes)"
    done
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
