/*
 * appleshark C shim, post-dissectors (see src/epan/post.rs): registering one, and the frame's
 * link-layer encapsulation, so a post-dissector can read the frame's own bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_POST_H
#define APPLESHARK_SHIM_POST_H

#include <epan/packet.h>

/* The WTAP_ENCAP_* of this frame's record, or -2 when it is not a packet record. */
int appleshark_pinfo_encap(const packet_info *pinfo);

/* The tvb of the frame's data source number `idx` (0: the frame itself; then, e.g., the
 * bytes a dissector decrypted or reassembled), or NULL past the last one. */
tvbuff_t *appleshark_data_source_tvb(const packet_info *pinfo, unsigned idx);

/* register_postdissector on a new handle for `dissector` of protocol `proto`. */
void appleshark_register_postdissector(dissector_t dissector, int proto);

/* A protocol "in name only" helper of TCP (enabled with TCP, not switched on its own; from
 * 4.2 on call_dissector_work keeps such helpers out of the frame's layer list): the protocol
 * of the one post-dissector that runs all of appleshark's TCP consumers. -1 without TCP. */
int appleshark_register_tcp_helper_protocol(const char *name, const char *short_name, const char *filter_name);

/* Whether protocol `proto` is enabled (Enabled Protocols, --disable-protocol). */
int appleshark_proto_enabled(int proto);

#endif
