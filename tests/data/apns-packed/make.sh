#!/bin/sh
# Makes the packed-framing ground truth in this folder: captures (pcapng), TLS key logs and
# the oracle's own JSON records (one line per message each side sent or received).
#
#   tests/data/apns-packed/make.sh RUSTPUSH_CHECKOUT
#
# RUSTPUSH_CHECKOUT: a checkout of github.com/OpenBubbles/rustpush (these files were made
# from commit b2996d57936ccd72198144685c7837ea01759685). The oracle is built outside this
# repository, in $ORACLE_DIR (default: ${TMPDIR:-/tmp}/apns-packed-oracle): the harness in
# oracle/ plus rustpush's codec, which oracle/extract.py copies out of the checkout's
# src/aps.rs into the build directory only. Needs root (unshare --net, dumpcap on lo), cargo,
# python3, dumpcap, ip. Every session runs in a network namespace of its own, so the
# captures hold nothing else.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rustpush=${1:?usage: make.sh RUSTPUSH_CHECKOUT}
oracle_dir=${ORACLE_DIR:-${TMPDIR:-/tmp}/apns-packed-oracle}
mkdir -p "$oracle_dir/src"
cp "$here/oracle/Cargo.toml" "$here/oracle/extract.py" "$oracle_dir/"
cp "$here/oracle/src/"*.rs "$oracle_dir/src/"
python3 "$oracle_dir/extract.py" "$rustpush/src/aps.rs" "$oracle_dir/src/aps.rs"
(cd "$oracle_dir" && cargo build --release -q)
oracle="$oracle_dir/target/release/apns-packed-oracle"
rounds=80

# session NAME "SERVER ARGS" "CLIENT ARGS" TLS(0/1)
session() {
    name=$1 sargs=$2 cargs=$3 tls=$4
    work=$(mktemp -d)
    chmod 755 "$work"
    unshare --net sh -eu -c '
        ip link set lo up
        dumpcap -q -i lo -f "tcp port 5223" -w "$0/capture.pcapng" 2>"$0/dumpcap.log" &
        cap=$!
        i=0; while [ ! -s "$0/capture.pcapng" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
        sleep 0.3
        : >"$0/server.out"
        "$1" server --port 5223 $2 --log "$0/server.jsonl" >"$0/server.out" 2>&1 &
        srv=$!
        i=0; while ! grep -q listening "$0/server.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
        SSLKEYLOGFILE="$0/keys.log" "$1" client --port 5223 $3 --log "$0/client.jsonl"
        wait $srv
        sleep 0.5
        kill -INT $cap; wait $cap || true
    ' "$work" "$oracle" "$sargs --rounds $rounds" "$cargs --rounds $rounds"
    cp "$work/capture.pcapng" "$here/$name.pcapng"
    chmod 644 "$here/$name.pcapng"
    cp "$work/client.jsonl" "$here/$name.client.jsonl"
    cp "$work/server.jsonl" "$here/$name.server.jsonl"
    if [ "$tls" = 1 ]; then cp "$work/keys.log" "$here/$name.keys"; chmod 644 "$here/$name.keys"; fi
    rm -rf "$work"
    python3 "$here/check.py" "$here/$name"
}

session packed-tls "--tls --alpn apns-pack-v1,apns-security-v3" "--tls --offer apns-pack-v1,apns-security-v3" 1
session packed-tls-sizes "--tls --alpn apns-pack-v1:1024:2048" "--tls --offer apns-pack-v1:1024:2048,apns-pack-v1,apns-security-v3" 1
session packed-plain "--sizes 4096:4096" "--sizes 4096:4096" 0
session packed-plain-large "--sizes 16384:16384" "--sizes 16384:16384" 0
