/*
 * appleshark: the FaceTime tap and its stats tree (`tshark -z facetime_calls,tree`).
 * See src/epan/ft_stats.rs. The C side only adapts Wireshark's callback types (which
 * changed between versions) to plain ones, and ties records to the packet's pool.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_FTSTATS_H
#define APPLESHARK_SHIM_FTSTATS_H

#include <epan/packet.h>

/* Per-packet callback: `st` is the stats tree, `record` what the dissector queued. */
typedef void (*appleshark_ftstats_packet_fn)(void *st, const void *record);
/* Tree initialisation callback. */
typedef void (*appleshark_ftstats_init_fn)(void *st);

/* register_tap(name). */
int appleshark_ftstats_register_tap(const char *name);

/* stats_tree_register_plugin(tap, abbr, name, 0, …) with the callbacks above (one tree). */
void appleshark_ftstats_register_tree(const char *tap, const char *abbr, const char *name,
                                      appleshark_ftstats_packet_fn packet,
                                      appleshark_ftstats_init_fn init);

/* 1 when someone listens on the tap. */
int appleshark_ftstats_listening(int tap);

/* Queues `record` on the tap; `free_fn(record)` runs when the packet's pool is freed
 * (after the taps have run). */
void appleshark_ftstats_queue(int tap, packet_info *pinfo, void *record, void (*free_fn)(void *));

/* Node operations by name under `parent` (0: the tree's root); created when missing.
 * mode 0: add `value` to the count; mode 1: set the count to `value`. Returns the node id. */
int appleshark_ftstats_node(void *st, int mode, const char *name, int parent, int with_children, int value);

/* pinfo->rel_ts in nanoseconds. */
long long appleshark_ftstats_rel_ns(const packet_info *pinfo);

#endif
