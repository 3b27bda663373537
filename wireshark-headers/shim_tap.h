/*
 * appleshark C shim, taps (see src/epan/tap.rs): registering a tap, queueing a Rust record
 * owned by the packet's pool, and the two kinds of listener the plugin offers:
 *  - stats trees (stats_tree_register_plugin: `tshark -z <abbr>,tree`, Statistics menu),
 *    whose init and packet callbacks are Rust;
 *  - statistics tables with one row per key (stat_tap_table_ui: `tshark -z <cli>[,filter]`,
 *    the Statistics or Telephony menu), whose rows Rust sets from the queued record.
 * The C side adapts Wireshark's callback types, which changed between versions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_TAP_H
#define APPLESHARK_SHIM_TAP_H

#include <epan/packet.h>

struct _stats_tree;
struct _stat_tap_table;

/* ---- taps ---- */

/* register_tap(name). Registration phase; the name must live forever. */
int appleshark_tap_register(const char *name);

/* 1 when someone listens on tap `tap_id` (-1: never registered, nobody). */
int appleshark_tap_listening(int tap_id);

/* Queues `record` on the tap; `free_fn(record)` runs when the packet's pool is freed (after
 * the tap listeners have run). */
void appleshark_tap_queue(int tap_id, packet_info *pinfo, void *record, void (*free_fn)(void *));

/* ---- stats trees ---- */

/* Rust's side of one tree: `user` is what was given at registration; `record` is NULL for the
 * tree's initialisation, else the record queued on the tree's tap. */
typedef void (*appleshark_st_cb)(const void *user, struct _stats_tree *st, const void *record);

/* Registers the stats tree `abbr` titled `name` on tap `tapname`. Wireshark's Qt GUI lists a
 * plugin's stats trees at the bottom of the Statistics menu whatever their group (4.0:
 * ui/qt/wireshark_main_window_slots.cpp, addStatsPluginsToMenu; likewise 4.4 and 4.6), so no
 * group is asked for; a table (appleshark_stat_register) can go to another menu. Its init
 * callback is never NULL (Wireshark's Qt dialog calls it without a check) and calls `cb(user, st, NULL)`; its
 * packet callback calls `cb(user, st, record)`. Registration phase; strings must live forever. */
void appleshark_stats_tree_register(const char *tapname, const char *abbr, const char *name,
                                    appleshark_st_cb cb, const void *user);

/* Node operations by name under `parent` (0: the tree's root), creating the node when
 * missing (with a child table when `with_children`). Returns the node's id. */
enum {
    APPLESHARK_ST_ADD = 0, /* add `value` to the count (0: only find or create) */
    APPLESHARK_ST_SET = 1, /* set the count to `value` */
    APPLESHARK_ST_AVG = 2  /* count one and add `value` to the node's average/min/max */
};
int appleshark_st_node(struct _stats_tree *st, int op, const char *name, int parent,
                       int with_children, int value);

/* The children of node `parent` (one created with a child table): with `name`, 1 when a child
 * of that name exists and 0 when not; without (NULL), how many children it has. -1 for a
 * parent that is not one. Nothing is created. */
int appleshark_st_children(struct _stats_tree *st, int parent, const char *name);

/* ---- statistics tables ---- */

#define APPLESHARK_STAT_MAX_COLS 24

/* Cell (and column) types of a statistics table. */
enum {
    APPLESHARK_CELL_EMPTY = 0,
    APPLESHARK_CELL_UINT = 1,
    APPLESHARK_CELL_STRING = 2,
    APPLESHARK_CELL_FLOAT = 3
};

typedef struct {
    int type; /* APPLESHARK_CELL_* */
    unsigned uint_value;
    double float_value;
    const char *string_value; /* copied by appleshark_stat_set_row */
} appleshark_stat_cell;

/* Rust's side of one table: `user` is what was given at registration; sets the row(s)
 * `record` (queued on the table's tap) stands for in `table`, with appleshark_stat_set_row.
 * Returns 1 when the table changed. */
typedef int (*appleshark_stat_cb)(const void *user, struct _stat_tap_table *table, const void *record);

/* Called when `table` is created or emptied (a new listener, a GUI retap): whatever Rust
 * accumulated for it goes. */
typedef void (*appleshark_stat_reset_cb)(const void *user, struct _stat_tap_table *table);

/* The GUI menu a statistics table is listed in (Wireshark's register_stat_group_t, whose
 * names differ between versions). */
enum {
    APPLESHARK_MENU_STATISTICS = 0, /* Statistics (the menu's middle part, "unsorted") */
    APPLESHARK_MENU_TELEPHONY = 1   /* Telephony (with VoIP Calls, SIP Flows, RTP) */
};

/* Registers tap `tap_name` and a table listening on it, listed in the GUI menu `menu`
 * (APPLESHARK_MENU_*); returns the tap id (-1 on error). The listener's filter (`-z
 * <cli>,<filter>`, the dialog's display filter) decides which packets' records reach `cb`.
 * All strings must live forever; so must `user`. */
int appleshark_stat_register(const char *title, const char *tap_name, const char *cli_string,
                             int menu, unsigned ncols, const char *const *names, const int *types,
                             const char *const *formats, appleshark_stat_cb cb,
                             appleshark_stat_reset_cb reset, const void *user);

/* Sets row `row` of `table` to `cells` (strings copied). Returns 1 when set, 0 when refused
 * (column count differs from the table's, or an absurd row index). */
int appleshark_stat_set_row(struct _stat_tap_table *table, unsigned row, unsigned ncols,
                            const appleshark_stat_cell *cells);

#endif
