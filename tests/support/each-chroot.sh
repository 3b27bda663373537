# each-chroot.sh: sourced by tests/packages/run.sh and tests/fresh-machine/run.sh.
#
#   in_each_chroot LABEL [--bare] SUITE...
#
# For each Debian SUITE: makes (once) its chroot with tests/multiversion/make-chroot.sh
# [--bare], then runs the calling script again as `"$0" SUITE` in a private mount namespace
# (so every mount it makes goes away with it, even if it is killed), with APPLESHARK_INNER=1
# and APPLESHARK_BASE=<the chroot>, holding a shared lock on make-chroot's lock of that
# chroot (a --refresh waits until we are done). Prints the time per suite; returns non-zero
# if any suite failed. Needs $cache (the APPLESHARK_CACHE folder).
# SPDX-License-Identifier: GPL-2.0-or-later
in_each_chroot() {
  local label=$1 bare=() status=0 suite t0 base; shift
  if [ "${1:-}" = --bare ]; then bare=(--bare); shift; fi
  for suite in "$@"; do
    t0=$(date +%s)
    base=$(tests/multiversion/make-chroot.sh "${bare[@]}" "$suite" | tail -n1)
    if ! APPLESHARK_INNER=1 APPLESHARK_BASE="$base" flock -s "$cache/chroot/.${base##*/}.lock" \
         unshare --mount --propagation private -- "$0" "$suite"; then
      status=1; echo "== $suite: FAILED"
    fi
    echo "== $suite: $(( $(date +%s) - t0 )) s"
  done
  [ $status != 0 ] || echo "$label: all passed ($*)"
  return $status
}
