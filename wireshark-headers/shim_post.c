/*
 * appleshark C shim, post-dissectors (see shim_post.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <wiretap/wtap.h>
#include "shim_post.h"

int appleshark_pinfo_encap(const packet_info *pinfo)
{
    if (!pinfo || !pinfo->rec || pinfo->rec->rec_type != REC_TYPE_PACKET)
        return -2;
    return pinfo->rec->rec_header.packet_header.pkt_encap;
}

tvbuff_t *appleshark_data_source_tvb(const packet_info *pinfo, unsigned idx)
{
    if (!pinfo)
        return NULL;
    const struct data_source *src = (const struct data_source *)g_slist_nth_data(pinfo->data_src, idx);
    return src ? get_data_source_tvb(src) : NULL;
}

void appleshark_register_postdissector(dissector_t dissector, int proto)
{
    dissector_handle_t h = create_dissector_handle(dissector, proto);
    register_postdissector(h);
}

int appleshark_register_tcp_helper_protocol(const char *name, const char *short_name, const char *filter_name)
{
    int tcp = proto_get_id_by_filter_name("tcp");
    if (tcp < 0)
        return -1;
    return proto_register_protocol_in_name_only(name, short_name, filter_name, tcp, FT_PROTOCOL);
}

int appleshark_proto_enabled(int proto)
{
    protocol_t *p = proto < 0 ? NULL : find_protocol_by_id(proto);
    return p != NULL && proto_is_protocol_enabled(p);
}
