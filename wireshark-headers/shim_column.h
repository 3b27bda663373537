/*
 * appleshark C shim, columns (see src/epan/column.rs): what Rust cannot do with one plain
 * column call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_COLUMN_H
#define APPLESHARK_SHIM_COLUMN_H

#include <epan/packet.h>

/* Puts `text` in front of the Info column even where a dissector left the column read-only
 * (TLS from 4.4 on leaves the Info column of a ClientHello read-only): the column is made
 * writable for this one prepend and its previous state restored. For post-dissectors, which
 * run last, so no later dissector relies on the read-only state. */
void appleshark_col_prepend_info(packet_info *pinfo, const char *text);

#endif
