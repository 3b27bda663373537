/*
 * appleshark C shim, taps and their listeners (see shim_tap.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <string.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <epan/stats_tree_priv.h> /* st->cfg->abbr: which of our trees a callback is for */
#include <epan/stat_tap_ui.h>
#include <epan/wmem_scopes.h>
#include "shim_tap.h"

/* ---- taps ---- */

int appleshark_tap_register(const char *name)
{
    return register_tap(name);
}

int appleshark_tap_listening(int tap_id)
{
    return tap_id >= 0 && have_tap_listener(tap_id) ? 1 : 0;
}

typedef struct {
    void *record;
    void (*free_fn)(void *);
} tap_pending;

/* The callback's return type is gboolean in 4.0 and bool later: take it from the typedef. */
typedef __typeof__(((wmem_user_cb_t)0)(NULL, WMEM_CB_FREE_EVENT, NULL)) tap_wmem_ret;

static tap_wmem_ret tap_free_cb(wmem_allocator_t *allocator, wmem_cb_event_t event, void *user_data)
{
    tap_pending *p = (tap_pending *)user_data;
    (void)allocator;
    (void)event;
    p->free_fn(p->record);
    g_free(p);
    return 0; /* unregister: called once */
}

void appleshark_tap_queue(int tap_id, packet_info *pinfo, void *record, void (*free_fn)(void *))
{
    tap_pending *p = g_new(tap_pending, 1);
    p->record = record;
    p->free_fn = free_fn;
    wmem_register_callback(pinfo->pool, tap_free_cb, p);
    tap_queue_packet(tap_id, pinfo, record);
}

/* ---- stats trees ---- */

#define MAX_TREES 8

static struct {
    const char *abbr;
    appleshark_st_cb cb;
    const void *user;
} trees[MAX_TREES];
static int ntrees;

static int tree_index(const stats_tree *st)
{
    if (st == NULL || st->cfg == NULL || st->cfg->abbr == NULL)
        return -1;
    for (int i = 0; i < ntrees; i++)
        if (strcmp(trees[i].abbr, st->cfg->abbr) == 0)
            return i;
    return -1;
}

static tap_packet_status st_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt,
                                   const void *p, tap_flags_t flags)
{
    int i = tree_index(st);
    (void)pinfo;
    (void)edt;
    (void)flags;
    if (i < 0 || p == NULL)
        return TAP_PACKET_DONT_REDRAW;
    trees[i].cb(trees[i].user, st, p);
    return TAP_PACKET_REDRAW;
}

/* Never NULL: Wireshark's Qt dialog (StatsTreeDialog::resetTap, the tap's reset callback,
 * called from reset_tap_listeners when the dialog retaps) calls cfg->init without a NULL check
 * in 4.0, 4.4 and 4.6, so a NULL init segfaults the GUI on Statistics -> <tree>. (epan's
 * stats_tree_reinit, tshark and sharkd check it, which is why tshark -z worked.) A tree with
 * nothing to set up gets a Rust init that does nothing. */
static void st_init(stats_tree *st)
{
    int i = tree_index(st);
    if (i >= 0)
        trees[i].cb(trees[i].user, st, NULL);
}

/* Called by stats_tree_free, which checks for NULL in every version; given anyway so no
 * callback of our trees is NULL. */
static void st_cleanup(stats_tree *st)
{
    (void)st;
}

void appleshark_stats_tree_register(const char *tapname, const char *abbr, const char *name,
                                    appleshark_st_cb cb, const void *user)
{
    if (ntrees == MAX_TREES || cb == NULL)
        return;
    trees[ntrees].abbr = abbr;
    trees[ntrees].cb = cb;
    trees[ntrees].user = user;
    ntrees++;
    stats_tree_register_plugin(tapname, abbr, name, 0, st_packet, st_init, st_cleanup);
}

int appleshark_st_node(stats_tree *st, int op, const char *name, int parent, int with_children,
                       int value)
{
    manip_node_mode mode = op == APPLESHARK_ST_SET   ? MN_SET
                           : op == APPLESHARK_ST_AVG ? MN_AVERAGE
                                                     : MN_INCREASE;
    return stats_tree_manip_node_int(mode, st, name, parent, with_children ? TRUE : FALSE, value);
}

int appleshark_st_children(stats_tree *st, int parent, const char *name)
{
    stat_node *node;
    if (st == NULL || st->parents == NULL || parent < 0 || (guint)parent >= st->parents->len)
        return -1;
    node = (stat_node *)g_ptr_array_index(st->parents, parent);
    if (node == NULL || node->hash == NULL)
        return -1;
    if (name != NULL)
        return g_hash_table_lookup(node->hash, name) != NULL ? 1 : 0;
    return (int)g_hash_table_size(node->hash);
}

/* ---- statistics tables ---- */

#define MAX_TABLES 4

static struct {
    const stat_tap_table_ui *ui;
    appleshark_stat_cb cb;
    appleshark_stat_reset_cb reset;
    const void *user;
} tables[MAX_TABLES];
static int ntables;

static int table_index(const stat_tap_table_ui *ui)
{
    for (int i = 0; i < ntables; i++)
        if (tables[i].ui == ui)
            return i;
    return -1;
}

/* Tells Rust that `table` starts empty (its accumulated state for it goes). */
static void stat_forget(stat_tap_table *table)
{
    for (int i = 0; i < ntables; i++)
        if (tables[i].reset)
            tables[i].reset(tables[i].user, table);
}

static void stat_free_item(stat_tap_table *table, guint row, guint column,
                           stat_tap_table_item_type *field_data)
{
    (void)table;
    (void)row;
    (void)column;
    if (field_data->type == TABLE_ITEM_STRING) {
        g_free((char *)field_data->value.string_value);
        field_data->value.string_value = NULL;
    }
}

static void stat_reset(stat_tap_table *table)
{
    stat_forget(table);
    for (guint r = 0; r < table->num_elements; r++) {
        for (guint c = 0; c < table->num_fields; c++) {
            stat_tap_table_item_type *it = stat_tap_get_field_data(table, r, c);
            stat_free_item(table, r, c, it);
            it->type = TABLE_ITEM_NONE;
        }
    }
}

static void stat_init(stat_tap_table_ui *ui)
{
    stat_tap_table *table = stat_tap_find_table(ui, ui->title);
    if (table) {
        stat_reset(table);
        return;
    }
    table = stat_tap_init_table(ui->title, (int)ui->nfields, 0, NULL);
    stat_forget(table);
    stat_tap_add_table(ui, table);
}

static tap_packet_status stat_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                     const void *data, tap_flags_t flags)
{
    stat_data_t *sd = (stat_data_t *)tapdata;
    stat_tap_table *table;
    int i;
    (void)pinfo;
    (void)edt;
    (void)flags;
    if (!sd || !data || !sd->stat_tap_data || !sd->stat_tap_data->tables || sd->stat_tap_data->tables->len == 0)
        return TAP_PACKET_DONT_REDRAW;
    i = table_index(sd->stat_tap_data);
    if (i < 0)
        return TAP_PACKET_DONT_REDRAW;
    table = g_array_index(sd->stat_tap_data->tables, stat_tap_table *, 0);
    return tables[i].cb(tables[i].user, table, data) ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

int appleshark_stat_set_row(stat_tap_table *table, unsigned row, unsigned ncols,
                            const appleshark_stat_cell *cells)
{
    stat_tap_table_item_type items[APPLESHARK_STAT_MAX_COLS];
    if (ncols != table->num_fields || ncols > APPLESHARK_STAT_MAX_COLS || row > 1000000)
        return 0;
    if (row < table->num_elements) {
        for (guint c = 0; c < table->num_fields; c++)
            stat_free_item(table, row, c, stat_tap_get_field_data(table, row, c));
    }
    memset(items, 0, sizeof(items));
    for (guint c = 0; c < ncols; c++) {
        const appleshark_stat_cell *cell = &cells[c];
        switch (cell->type) {
        case APPLESHARK_CELL_UINT:
            items[c].type = TABLE_ITEM_UINT;
            items[c].value.uint_value = cell->uint_value;
            break;
        case APPLESHARK_CELL_FLOAT:
            items[c].type = TABLE_ITEM_FLOAT;
            items[c].value.float_value = cell->float_value;
            break;
        case APPLESHARK_CELL_STRING:
            items[c].type = TABLE_ITEM_STRING;
            items[c].value.string_value = g_strdup(cell->string_value ? cell->string_value : "");
            break;
        default:
            /* tshark stops a row at the first empty cell: print a dash instead. */
            items[c].type = TABLE_ITEM_STRING;
            items[c].value.string_value = g_strdup("-");
            break;
        }
    }
    stat_tap_init_table_row(table, row, table->num_fields, items);
    return 1;
}

/* The register_stat_group_t of a menu. The Qt GUI puts a table of the group
 * REGISTER_PACKET_STAT_GROUP_UNSORTED in the Statistics menu and one of the Telephony group in
 * the Telephony menu (4.0: ui/qt/wireshark_main_window.cpp, addMenuActions). The Telephony
 * group is REGISTER_STAT_GROUP_TELEPHONY in 4.0's epan/stat_groups.h and
 * REGISTER_TELEPHONY_GROUP_UNSORTED in 4.4's and 4.6's (same place in the enum). */
static register_stat_group_t menu_group(int menu)
{
    switch (menu) {
    case APPLESHARK_MENU_TELEPHONY:
#if WIRESHARK_VERSION_MAJOR == 4 && WIRESHARK_VERSION_MINOR < 4
        return REGISTER_STAT_GROUP_TELEPHONY;
#else
        return REGISTER_TELEPHONY_GROUP_UNSORTED;
#endif
    default:
        return REGISTER_PACKET_STAT_GROUP_UNSORTED;
    }
}

int appleshark_stat_register(const char *title, const char *tap_name, const char *cli_string,
                             int menu, unsigned ncols, const char *const *names, const int *types,
                             const char *const *formats, appleshark_stat_cb cb,
                             appleshark_stat_reset_cb reset, const void *user)
{
    stat_tap_table_ui *ui;
    stat_tap_table_item *fields;
    tap_param *params;
    int tap_id;
    if (ncols == 0 || ncols > APPLESHARK_STAT_MAX_COLS || cb == NULL || ntables == MAX_TABLES)
        return -1;
    tap_id = register_tap(tap_name);
    fields = g_new0(stat_tap_table_item, ncols);
    for (unsigned i = 0; i < ncols; i++) {
        fields[i].type = types[i] == APPLESHARK_CELL_UINT    ? TABLE_ITEM_UINT
                         : types[i] == APPLESHARK_CELL_FLOAT ? TABLE_ITEM_FLOAT
                                                             : TABLE_ITEM_STRING;
        fields[i].align = types[i] == APPLESHARK_CELL_STRING ? TAP_ALIGN_LEFT : TAP_ALIGN_RIGHT;
        fields[i].column_name = names[i];
        fields[i].field_format = formats[i];
    }
    params = g_new0(tap_param, 1);
    params[0].type = PARAM_FILTER;
    params[0].name = "filter";
    params[0].title = "Filter";
    params[0].enum_vals = NULL;
    params[0].optional = TRUE;
    ui = g_new0(stat_tap_table_ui, 1);
    ui->group = menu_group(menu);
    ui->title = title;
    ui->tap_name = tap_name;
    ui->cli_string = cli_string;
    ui->stat_tap_init_cb = stat_init;
    ui->packet_func = stat_packet;
    ui->stat_tap_reset_table_cb = stat_reset;
    ui->stat_tap_free_table_item_cb = stat_free_item;
    ui->stat_filter_check_cb = NULL;
    ui->nfields = ncols;
    ui->fields = fields;
    ui->nparams = 1;
    ui->params = params;
    ui->tables = NULL;
    ui->refcount = 0;
    tables[ntables].ui = ui;
    tables[ntables].cb = cb;
    tables[ntables].reset = reset;
    tables[ntables].user = user;
    ntables++;
    register_stat_tap_table_ui(ui);
    return tap_id;
}
