/*
 * appleshark C shim, statistics area (see shim_stats_tree.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <string.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <wsutil/wmem/wmem.h>
#include "shim_stats_tree.h"

typedef struct {
    const void *handler;
    unsigned len;
    unsigned char data[];
} appleshark_tap_record;

static appleshark_st_dispatch_t st_dispatch;

void appleshark_tap_queue_record(int tap_id, packet_info *pinfo, const void *handler,
                                 const unsigned char *data, unsigned len)
{
    appleshark_tap_record *r;
    if (tap_id < 0 || !have_tap_listener(tap_id))
        return;
    r = (appleshark_tap_record *)wmem_alloc(pinfo->pool, sizeof *r + len);
    r->handler = handler;
    r->len = len;
    if (len)
        memcpy(r->data, data, len);
    tap_queue_packet(tap_id, pinfo, r);
}

static tap_packet_status appleshark_st_packet(stats_tree *st, packet_info *pinfo,
                                              epan_dissect_t *edt, const void *p,
                                              tap_flags_t flags)
{
    const appleshark_tap_record *r = (const appleshark_tap_record *)p;
    (void)pinfo; (void)edt; (void)flags;
    if (r == NULL || st_dispatch == NULL)
        return TAP_PACKET_DONT_REDRAW;
    st_dispatch(st, r->handler, r->data, r->len);
    return TAP_PACKET_REDRAW;
}

/* The tree's nodes are made by the first tick; nothing to set up. The callback must exist
 * all the same: Wireshark's Qt dialog (StatsTreeDialog::resetTap, the tap's reset callback,
 * called from reset_tap_listeners when the dialog retaps) calls cfg->init without a NULL check
 * in 4.0, 4.4 and 4.6, so a NULL init segfaults the GUI on Statistics -> <tree>. (epan's
 * stats_tree_reinit, tshark and sharkd check it, which is why tshark -z worked.) */
static void appleshark_st_init(stats_tree *st)
{
    (void)st;
}

/* Called by stats_tree_free, which checks for NULL in every version; given anyway so no
 * callback of this tree is NULL. */
static void appleshark_st_cleanup(stats_tree *st)
{
    (void)st;
}

void appleshark_stats_tree_register(const char *tapname, const char *abbr, const char *name,
                                    appleshark_st_dispatch_t dispatch)
{
    st_dispatch = dispatch;
    stats_tree_register_plugin(tapname, abbr, name, 0, appleshark_st_packet, appleshark_st_init,
                               appleshark_st_cleanup);
}

int appleshark_st_tick(stats_tree *st, const char *name, int parent_id)
{
    return tick_stat_node(st, name, parent_id, TRUE);
}

int appleshark_st_avg(stats_tree *st, const char *name, int parent_id, int value)
{
    return avg_stat_node_add_value_int(st, name, parent_id, FALSE, value);
}
