/*
 * appleshark's C shim: the few things Rust cannot do directly against epan.
 *  - calls that can THROW (a longjmp that would jump over Rust frames) are wrapped in
 *    TRY/CATCH here and report the exception as a return code after show_exception();
 *  - macros and bitfields (PINFO_FD_VISITED) become functions;
 *  - callbacks whose C types changed between versions are written once in C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_H
#define APPLESHARK_SHIM_H

#include <epan/packet.h>

/* 1 when this frame was already dissected once (second pass, GUI re-dissection). */
int appleshark_pinfo_visited(const packet_info *pinfo);

/* proto_item_set_generated / _hidden are static inline in the headers (invisible to bindgen). */
void appleshark_item_set_generated(proto_item *item);
void appleshark_item_set_hidden(proto_item *item);

/* Calls `handle` on the bytes [offset, offset+len) of tvb (len -1: to the end).
 * Returns the sub-dissector's result, or -1 when it threw (after show_exception). */
int appleshark_call_dissector(dissector_handle_t handle, tvbuff_t *tvb, int offset, int len,
                              packet_info *pinfo, proto_tree *tree, void *data);

/* Runs `free_fn(data)` when the file scope is freed (file closed or re-dissected). */
void appleshark_on_file_scope_free(void *data, void (*free_fn)(void *));

/* tcp_dissect_pdus with the exception caught (returns -1 when it threw). */
int appleshark_tcp_dissect_pdus(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                                int desegment, unsigned fixed_len,
                                unsigned (*get_pdu_len)(packet_info *, tvbuff_t *, int, void *),
                                dissector_t dissect_pdu, void *data);

/* What stock Wireshark shows for bytes cut off by the capture's snap length (the BoundsError
 * of show_exception): "[Packet size limited during capture]" in Info and a "Short Frame"
 * item; no expert info, since it is not the packet's fault. */
void appleshark_show_cut(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree);

/* report_failure("%s", msg): how Wireshark reports a bad preference (tshark: stderr; the
 * GUI: a dialog). */
void appleshark_report_failure(const char *msg);

#endif
