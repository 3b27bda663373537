/*
 * appleshark C helpers for the MPTCP annotations (see shim_mptcp.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <string.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/stat_tap_ui.h>
#include <epan/wmem_scopes.h>
#include <wiretap/wtap.h>
#include "shim_mptcp.h"

int appleshark_pinfo_encap(const packet_info *pinfo)
{
    if (!pinfo || !pinfo->rec || pinfo->rec->rec_type != REC_TYPE_PACKET)
        return -2;
    return pinfo->rec->rec_header.packet_header.pkt_encap;
}

void appleshark_register_postdissector(dissector_t dissector, int proto)
{
    dissector_handle_t h = create_dissector_handle(dissector, proto);
    register_postdissector(h);
}

/* ---- statistics table ---- */

typedef struct {
    unsigned row;
    unsigned ncols;
    appleshark_stat_cell cells[APPLESHARK_STAT_MAX_COLS];
} appleshark_stat_row;

static void appleshark_stat_free_item(stat_tap_table *table, guint row, guint column,
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

static void appleshark_stat_reset(stat_tap_table *table)
{
    for (guint r = 0; r < table->num_elements; r++) {
        for (guint c = 0; c < table->num_fields; c++) {
            stat_tap_table_item_type *it = stat_tap_get_field_data(table, r, c);
            appleshark_stat_free_item(table, r, c, it);
            it->type = TABLE_ITEM_NONE;
        }
    }
}

static void appleshark_stat_init(stat_tap_table_ui *ui)
{
    stat_tap_table *table = stat_tap_find_table(ui, ui->title);
    if (table) {
        appleshark_stat_reset(table);
        return;
    }
    table = stat_tap_init_table(ui->title, (int)ui->nfields, 0, NULL);
    stat_tap_add_table(ui, table);
}

static tap_packet_status appleshark_stat_packet(void *tapdata, packet_info *pinfo,
                                                epan_dissect_t *edt, const void *data,
                                                tap_flags_t flags)
{
    stat_data_t *sd = (stat_data_t *)tapdata;
    const appleshark_stat_row *r = (const appleshark_stat_row *)data;
    stat_tap_table_item_type items[APPLESHARK_STAT_MAX_COLS];
    stat_tap_table *table;
    (void)pinfo;
    (void)edt;
    (void)flags;
    if (!sd || !r || sd->stat_tap_data->tables->len == 0)
        return TAP_PACKET_DONT_REDRAW;
    table = g_array_index(sd->stat_tap_data->tables, stat_tap_table *, 0);
    if (r->ncols != table->num_fields || r->row > 1000000)
        return TAP_PACKET_DONT_REDRAW;
    if (r->row < table->num_elements) {
        for (guint c = 0; c < table->num_fields; c++)
            appleshark_stat_free_item(table, r->row, c, stat_tap_get_field_data(table, r->row, c));
    }
    memset(items, 0, sizeof(items));
    for (guint c = 0; c < r->ncols; c++) {
        const appleshark_stat_cell *cell = &r->cells[c];
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
    stat_tap_init_table_row(table, r->row, table->num_fields, items);
    return TAP_PACKET_REDRAW;
}

int appleshark_stat_register(const char *title, const char *tap_name, const char *cli_string,
                             unsigned ncols, const char *const *names, const int *types,
                             const char *const *formats)
{
    stat_tap_table_ui *ui;
    stat_tap_table_item *fields;
    tap_param *params;
    int tap_id;
    if (ncols == 0 || ncols > APPLESHARK_STAT_MAX_COLS)
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
    ui->group = REGISTER_PACKET_STAT_GROUP_UNSORTED;
    ui->title = title;
    ui->tap_name = tap_name;
    ui->cli_string = cli_string;
    ui->stat_tap_init_cb = appleshark_stat_init;
    ui->packet_func = appleshark_stat_packet;
    ui->stat_tap_reset_table_cb = appleshark_stat_reset;
    ui->stat_tap_free_table_item_cb = appleshark_stat_free_item;
    ui->stat_filter_check_cb = NULL;
    ui->nfields = ncols;
    ui->fields = fields;
    ui->nparams = 1;
    ui->params = params;
    ui->tables = NULL;
    ui->refcount = 0;
    register_stat_tap_table_ui(ui);
    return tap_id;
}

int appleshark_tap_has_listener(int tap_id)
{
    return tap_id >= 0 && have_tap_listener(tap_id) ? 1 : 0;
}

void appleshark_stat_queue_row(int tap_id, packet_info *pinfo, unsigned row, unsigned ncols,
                               const appleshark_stat_cell *cells)
{
    appleshark_stat_row *r;
    if (tap_id < 0 || ncols > APPLESHARK_STAT_MAX_COLS)
        return;
    r = wmem_new0(pinfo->pool, appleshark_stat_row);
    r->row = row;
    r->ncols = ncols;
    for (unsigned i = 0; i < ncols; i++) {
        r->cells[i] = cells[i];
        if (cells[i].type == APPLESHARK_CELL_STRING)
            r->cells[i].string_value = wmem_strdup(pinfo->pool, cells[i].string_value ? cells[i].string_value : "");
    }
    tap_queue_packet(tap_id, pinfo, r);
}
