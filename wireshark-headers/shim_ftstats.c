/*
 * appleshark: see shim_ftstats.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <epan/wmem_scopes.h>
#include "shim_ftstats.h"

static appleshark_ftstats_packet_fn ftstats_packet;
static appleshark_ftstats_init_fn ftstats_init;

int appleshark_ftstats_register_tap(const char *name)
{
    return register_tap(name);
}

/* The callback types follow the version (gboolean → bool, flags): take them from the
 * typedefs instead of spelling them. */
typedef __typeof__(((stat_tree_packet_cb)0)(NULL, NULL, NULL, NULL, 0)) appleshark_st_ret;

static appleshark_st_ret ftstats_packet_cb(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                           const void *p, tap_flags_t flags)
{
    (void)pinfo;
    (void)edt;
    (void)flags;
    if (ftstats_packet != NULL && p != NULL)
        ftstats_packet(st, p);
    return TAP_PACKET_REDRAW;
}

static void ftstats_init_cb(stats_tree *st)
{
    if (ftstats_init != NULL)
        ftstats_init(st);
}

void appleshark_ftstats_register_tree(const char *tap, const char *abbr, const char *name,
                                      appleshark_ftstats_packet_fn packet,
                                      appleshark_ftstats_init_fn init)
{
    ftstats_packet = packet;
    ftstats_init = init;
    stats_tree_register_plugin(tap, abbr, name, 0, ftstats_packet_cb, ftstats_init_cb, NULL);
}

int appleshark_ftstats_listening(int tap)
{
    return have_tap_listener(tap) ? 1 : 0;
}

typedef struct {
    void *record;
    void (*free_fn)(void *);
} ftstats_pending;

typedef __typeof__(((wmem_user_cb_t)0)(NULL, WMEM_CB_FREE_EVENT, NULL)) ftstats_wmem_ret;

static ftstats_wmem_ret ftstats_free_cb(wmem_allocator_t *allocator, wmem_cb_event_t event, void *user_data)
{
    ftstats_pending *p = (ftstats_pending *)user_data;
    (void)allocator;
    (void)event;
    p->free_fn(p->record);
    g_free(p);
    return 0;
}

void appleshark_ftstats_queue(int tap, packet_info *pinfo, void *record, void (*free_fn)(void *))
{
    ftstats_pending *p = g_new(ftstats_pending, 1);
    p->record = record;
    p->free_fn = free_fn;
    wmem_register_callback(pinfo->pool, ftstats_free_cb, p);
    tap_queue_packet(tap, pinfo, record);
}

int appleshark_ftstats_node(void *st, int mode, const char *name, int parent, int with_children, int value)
{
    return stats_tree_manip_node_int(mode == 1 ? MN_SET : MN_INCREASE, (stats_tree *)st, name, parent,
                                     with_children ? TRUE : FALSE, value);
}

long long appleshark_ftstats_rel_ns(const packet_info *pinfo)
{
    return (long long)pinfo->rel_ts.secs * 1000000000LL + pinfo->rel_ts.nsecs;
}
