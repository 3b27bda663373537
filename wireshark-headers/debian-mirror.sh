# debian-mirror.sh: sourced (not run) by the scripts that download from Debian:
# wireshark-headers/fetch-headers.sh, tests/multiversion/make-chroot.sh,
# tests/fresh-machine/run.sh, tests/packages/run.sh.
#
#   . wireshark-headers/debian-mirror.sh
#   mirror=$(debian_mirror) || exit 1     # APPLESHARK_DEBIAN_MIRROR, else the host's apt sources
#
# SPDX-License-Identifier: GPL-2.0-or-later

# Prints the URI of the host's main Debian archive (the one carrying the host's
# release suite, not the security archive). Reads one-line *.list files and
# deb822 *.sources files, as apt does (other file names are ignored by apt).
# debian_suite ARG: the Debian suite for a suite name or a Wireshark version (bookworm|4.0,
# trixie|4.4, sid|unstable|4.6); sets `suite` and `want` (the Wireshark major.minor it ships).
debian_suite() {
    case $1 in
        bookworm|4.0) suite=bookworm; want=4.0 ;;
        trixie|4.4)   suite=trixie;   want=4.4 ;;
        sid|unstable|4.6) suite=sid;  want=4.6 ;;
        *) return 1 ;;
    esac
}

host_mirror() {
    local codename="" files=() f
    if [ -r /etc/os-release ]; then
        codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
    fi
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    # Emit "URI<TAB>suite" pairs for every enabled "deb" source.
    {
        for f in "${files[@]}"; do
            case $f in
            *.sources)
                awk '
                function flush(   n, i, j, nu, ns, u, s) {
                    if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
                        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
                        for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                            if (u[i] != "" && s[j] != "") print u[i] "\t" s[j]
                    }
                    types = uris = suites = enabled = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                {
                    line = $0; key = line; sub(/:.*/, "", key); val = line; sub(/^[^:]*:[ \t]*/, "", val)
                    k = tolower(key)
                    if (k == "types") types = val
                    else if (k == "uris") uris = val
                    else if (k == "suites") suites = val
                    else if (k == "enabled") enabled = val
                }
                END { flush() }' "$f"
                ;;
            *)
                # deb [opts] URI suite comp...
                sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
                    awk '$1 == "deb" && NF >= 3 { print $2 "\t" $3 }'
                ;;
            esac
        done
    } | awk -F'\t' -v cn="$codename" '
        { uri = $1; sub(/\/+$/, "", uri) }
        # best: the host release suite itself
        cn != "" && $2 == cn && !best { best = uri }
        # next: a Debian archive that is not the security archive
        uri ~ /\/debian$/ && $2 !~ /-security$/ && !fallback { fallback = uri }
        END { if (best) print best; else if (fallback) print fallback }'
}

# APPLESHARK_DEBIAN_MIRROR if set, else host_mirror; fails (with a message on stderr) when
# neither gives one.
debian_mirror() {
    local m=${APPLESHARK_DEBIAN_MIRROR:-$(host_mirror)}
    if [ -z "$m" ]; then
        printf '%s\n' "could not find a Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/*.{list,sources}; set APPLESHARK_DEBIAN_MIRROR=URL" >&2
        return 1
    fi
    printf '%s\n' "$m"
}
