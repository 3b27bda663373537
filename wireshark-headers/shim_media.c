/*
 * appleshark: see shim_media.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/exceptions.h>
#include <epan/dissectors/packet-rtp.h>
#include "shim_media.h"

static int media_addr(address *out, const unsigned char *addr, int addr_len)
{
    if (addr_len == 4) {
        set_address(out, AT_IPv4, 4, addr);
    } else if (addr_len == 16) {
        set_address(out, AT_IPv6, 16, addr);
    } else {
        return 0;
    }
    return 1;
}

int appleshark_media_claim_flow(packet_info *pinfo, dissector_handle_t handle)
{
    conversation_t *conv;
    if (handle == NULL || pinfo->ptype != PT_UDP)
        return 0;
    conv = find_conversation(pinfo->num, &pinfo->src, &pinfo->dst, CONVERSATION_UDP,
                             pinfo->srcport, pinfo->destport, 0);
    /* find_conversation falls back to wildcard matches: only an exact one will do. */
    if (conv == NULL || (conv->options & (NO_ADDR2 | NO_PORT2 | CONVERSATION_TEMPLATE)) != 0) {
        conv = conversation_new(pinfo->num, &pinfo->src, &pinfo->dst, CONVERSATION_UDP,
                                pinfo->srcport, pinfo->destport, 0);
    }
    if (conversation_get_dissector(conv, pinfo->num) == handle)
        return 0;
    conversation_set_dissector(conv, handle);
    return 1;
}

int appleshark_media_reclaim(packet_info *pinfo, const unsigned char *addr, int addr_len,
                             unsigned port, dissector_handle_t handle)
{
    address a;
    conversation_t *conv;
    if (handle == NULL || !media_addr(&a, addr, addr_len))
        return 0;
    conv = find_conversation(pinfo->num, &a, NULL, CONVERSATION_UDP, port, 0,
                             NO_ADDR_B | NO_PORT_B);
    if (conv == NULL || conversation_get_dissector(conv, pinfo->num) == handle)
        return 0;
    conversation_set_dissector(conv, handle);
    return 1;
}

int appleshark_media_rtp_setup(packet_info *pinfo, const unsigned char *addr, int addr_len,
                               unsigned port, const char *method, unsigned setup_frame,
                               unsigned media_types, int n, const unsigned char *pts,
                               const char *const *names, const int *rates)
{
    address a;
    volatile int ret = 0;
    if (!media_addr(&a, addr, addr_len))
        return -1;
    TRY {
        rtp_dyn_payload_t *dyn = rtp_dyn_payload_new();
        for (int i = 0; i < n; i++) {
            if (names[i] != NULL)
#if WIRESHARK_VERSION_MAJOR > 4 || WIRESHARK_VERSION_MINOR >= 4
                /* 4.4 added the channel count (1: mono; SDP's channels are not carried). */
                rtp_dyn_payload_insert(dyn, pts[i], names[i], rates[i], 1);
#else
                rtp_dyn_payload_insert(dyn, pts[i], names[i], rates[i]);
#endif
        }
        rtp_add_address(pinfo, PT_UDP, &a, (int)port, 0, method, setup_frame, media_types, dyn);
        /* rtp_add_address took its own reference. */
        rtp_dyn_payload_free(dyn);
    }
    CATCH_NONFATAL_ERRORS {
        ret = -1;
    }
    ENDTRY;
    return ret;
}
