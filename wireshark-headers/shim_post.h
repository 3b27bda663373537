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

#endif
