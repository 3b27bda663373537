/*
 * appleshark C shim, TLS area: handing decrypted TLS application data to a dissector.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_TLS_H
#define APPLESHARK_SHIM_TLS_H

#include <epan/packet.h>

/* ssl_dissector_add(): TCP `port` goes to TLS, and TLS hands its decrypted data on that
 * port to `handle` (the "tls.port" table). packet-tls.h is not part of wrapper.h, so the
 * call is made here. Registration phase (handoff) only. */
void appleshark_tls_port_add(unsigned port, dissector_handle_t handle);

#endif
