/*
 * appleshark C shim, columns (see shim_column.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "shim_column.h"
#include <epan/column-utils.h>

void appleshark_col_prepend_info(packet_info *pinfo, const char *text)
{
    if (!pinfo || !pinfo->cinfo)
        return;
    gboolean was = col_get_writable(pinfo->cinfo, COL_INFO);
    col_set_writable(pinfo->cinfo, COL_INFO, TRUE);
    col_prepend_fstr(pinfo->cinfo, COL_INFO, "%s", text);
    col_set_writable(pinfo->cinfo, COL_INFO, was);
}
