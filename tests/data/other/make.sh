#!/usr/bin/env bash
# Regenerates the captures of other protocols in this folder (README.md): real traffic on the
# loopback interface between local servers and clients, captured with dumpcap.
#   tests/data/other/make.sh [NAME ...]     (NAME = a capture's stem, e.g. mndp-5678)
# Needs root (dumpcap on lo; ports 53 and 443), and dumpcap, capinfos, openssl, curl, dig
# (bind9-dnsutils), sipp (sip-tester), ss (iproute2), python3.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make.sh: needs root (dumpcap -i lo, ports 53/443)" >&2; exit 1; }
for tool in dumpcap capinfos openssl curl dig sipp ss python3; do
  command -v "$tool" >/dev/null || { echo "make.sh: missing $tool" >&2; exit 1; }
done
exec python3 make.py "$@"
