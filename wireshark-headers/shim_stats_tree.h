/*
 * appleshark C shim, statistics area: taps carrying a byte record, and stats_tree plugins
 * (`tshark -z <abbr>,tree`, Statistics menu) whose packet callback is Rust.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_STATS_TREE_H
#define APPLESHARK_SHIM_STATS_TREE_H

#include <epan/packet.h>

struct _stats_tree;

/* Rust's side: called for every queued record with the handler the record names. */
typedef void (*appleshark_st_dispatch_t)(struct _stats_tree *st, const void *handler,
                                          const unsigned char *data, unsigned len);

/* Queues a copy of `data` (in pinfo->pool) on tap `tap_id`, for `handler`. */
void appleshark_tap_queue_record(int tap_id, packet_info *pinfo, const void *handler,
                                 const unsigned char *data, unsigned len);

/* Registers a stats tree on tap `tapname` (stats_tree_register_plugin), with init and
 * cleanup callbacks that do nothing (never NULL: the Qt dialog calls init unchecked).
 * `dispatch` is the same for every tree. Registration phase only; strings must live forever. */
void appleshark_stats_tree_register(const char *tapname, const char *abbr, const char *name,
                                    appleshark_st_dispatch_t dispatch);

/* tick_stat_node(st, name, parent, TRUE): count one, creating the node. Returns its id. */
int appleshark_st_tick(struct _stats_tree *st, const char *name, int parent_id);
/* avg_stat_node_add_value_int(st, name, parent, FALSE, value): count one and average. */
int appleshark_st_avg(struct _stats_tree *st, const char *name, int parent_id, int value);

#endif
