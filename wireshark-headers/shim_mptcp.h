/*
 * appleshark C helpers for the MPTCP annotations: post-dissector registration, the
 * frame's link-layer encapsulation, and a generic "one row per key" statistics table
 * (Wireshark's stat_tap_table_ui: tshark -z <cli> and the GUI's Statistics menu).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_MPTCP_H
#define APPLESHARK_SHIM_MPTCP_H

#include <epan/packet.h>

/* The WTAP_ENCAP_* of this frame's record, or -2 when it is not a packet record. */
int appleshark_pinfo_encap(const packet_info *pinfo);

/* register_postdissector on a new handle for `dissector` of protocol `proto`. */
void appleshark_register_postdissector(dissector_t dissector, int proto);

#define APPLESHARK_STAT_MAX_COLS 24

/* Column types of a statistics table. */
enum {
    APPLESHARK_CELL_EMPTY = 0,
    APPLESHARK_CELL_UINT = 1,
    APPLESHARK_CELL_STRING = 2,
    APPLESHARK_CELL_FLOAT = 3
};

typedef struct {
    int type;          /* APPLESHARK_CELL_* */
    unsigned uint_value;
    double float_value;
    const char *string_value; /* copied by appleshark_stat_queue_row */
} appleshark_stat_cell;

/* Registers a table whose rows are set by tapped rows; returns the tap id (-1 on error).
 * All strings must live forever. */
int appleshark_stat_register(const char *title, const char *tap_name, const char *cli_string,
                             unsigned ncols, const char *const *names, const int *types,
                             const char *const *formats);

/* 1 when someone listens on the tap (so building a row is worth it). */
int appleshark_tap_has_listener(int tap_id);

/* Queues a row update (row index `row`, `ncols` cells) for this frame; everything is copied
 * into packet scope. */
void appleshark_stat_queue_row(int tap_id, packet_info *pinfo, unsigned row, unsigned ncols,
                               const appleshark_stat_cell *cells);

#endif
