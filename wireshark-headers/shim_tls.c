/*
 * appleshark C shim, TLS area (see shim_tls.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <epan/dissectors/packet-tls.h>
#include "shim_tls.h"

void appleshark_tls_port_add(unsigned port, dissector_handle_t handle)
{
    ssl_dissector_add(port, handle);
}
