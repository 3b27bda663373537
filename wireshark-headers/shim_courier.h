/*
 * appleshark C helpers for labelling courier connections by TLS server name (a
 * post-dissector): prepend to the Info column even where a dissector left it read-only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_COURIER_H
#define APPLESHARK_SHIM_COURIER_H

#include <epan/packet.h>

/* Puts `text` in front of the Info column. TLS from 4.4 on leaves the Info column of a
 * ClientHello read-only; the column is made writable for this one prepend and its previous
 * state restored (post-dissectors run last, so no later dissector relies on it). */
void appleshark_col_prepend_info(packet_info *pinfo, const char *text);

#endif
