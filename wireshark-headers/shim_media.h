/*
 * appleshark: conversations and RTP set-up for demultiplexers that share one UDP port
 * between signalling and media (FaceTime). See src/epan/media.rs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_MEDIA_H
#define APPLESHARK_SHIM_MEDIA_H

#include <epan/packet.h>

/* Makes sure the exact UDP conversation of this packet (both addresses and ports, no
 * wildcard) exists, and sends it to `handle` from now on. UDP tries the exact conversation
 * before any wildcard one (such as the one SDP sets up for RTP), so the demultiplexer sees
 * every later packet of the flow first. Returns 1 when the dissector was (re)set. */
int appleshark_media_claim_flow(packet_info *pinfo, dissector_handle_t handle);

/* The wildcard conversation `addr:port <-> any` (what SDP's rtp_add_address creates), if one
 * exists at this frame, is sent to `handle` instead of its current dissector.
 * addr_len: 4 (IPv4) or 16 (IPv6). Returns 1 when one was found and changed. */
int appleshark_media_reclaim(packet_info *pinfo, const unsigned char *addr, int addr_len,
                             unsigned port, dissector_handle_t handle);

/* rtp_add_address(addr:port) with the payload-type map pts[i] -> (names[i], rates[i]);
 * media_types: RTP_MEDIA_* bits. Exceptions are caught (returns -1). */
int appleshark_media_rtp_setup(packet_info *pinfo, const unsigned char *addr, int addr_len,
                               unsigned port, const char *method, unsigned setup_frame,
                               unsigned media_types, int n, const unsigned char *pts,
                               const char *const *names, const int *rates);

#endif
