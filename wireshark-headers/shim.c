/*
 * appleshark's C shim (see shim.h). Compiled by build.rs with the `cc` crate against the
 * same headers bindgen reads.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <epan/exceptions.h>
#include <epan/show_exception.h>
#include <epan/wmem_scopes.h>
#include <epan/dissectors/packet-tcp.h>
#include <wsutil/report_message.h>
#include "shim.h"

int appleshark_pinfo_visited(const packet_info *pinfo)
{
    return PINFO_FD_VISITED(pinfo) ? 1 : 0;
}

void appleshark_item_set_generated(proto_item *item)
{
    proto_item_set_generated(item);
}

void appleshark_item_set_hidden(proto_item *item)
{
    proto_item_set_hidden(item);
}

int appleshark_call_dissector(dissector_handle_t handle, tvbuff_t *tvb, int offset, int len,
                              packet_info *pinfo, proto_tree *tree, void *data)
{
    volatile int ret = -1;
    TRY {
        /* The whole buffer: hand it on as it is, without a subset tvb per call. A span to
         * the end of the captured bytes keeps the reported length, so that bytes cut off by
         * the capture's snap length read as "[Packet size limited during capture]" in the
         * callee, not as a malformed packet. */
        guint captured = tvb_captured_length(tvb);
        tvbuff_t *sub = (offset == 0 && (guint)len == captured)
                            ? tvb
                            : ((guint)offset + (guint)len == captured)
                                  ? tvb_new_subset_remaining(tvb, offset)
                                  : tvb_new_subset_length_caplen(tvb, offset, len, len);
        ret = call_dissector_with_data(handle, sub, pinfo, tree, data);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
        ret = -1;
    }
    ENDTRY;
    return ret;
}

typedef struct {
    void *data;
    void (*free_fn)(void *);
} appleshark_scope_cb;

/* wmem_user_cb_t returns gboolean in 4.0 and bool later: take the type from the typedef. */
typedef __typeof__(((wmem_user_cb_t)0)(NULL, WMEM_CB_FREE_EVENT, NULL)) appleshark_wmem_ret;

static appleshark_wmem_ret appleshark_scope_cb_run(wmem_allocator_t *allocator,
                                                   wmem_cb_event_t event, void *user_data)
{
    appleshark_scope_cb *cb = (appleshark_scope_cb *)user_data;
    (void)allocator;
    (void)event;
    cb->free_fn(cb->data);
    g_free(cb);
    return 0; /* unregister: the data is gone */
}

void appleshark_on_file_scope_free(void *data, void (*free_fn)(void *))
{
    appleshark_scope_cb *cb = g_new(appleshark_scope_cb, 1);
    cb->data = data;
    cb->free_fn = free_fn;
    wmem_register_callback(wmem_file_scope(), appleshark_scope_cb_run, cb);
}

int appleshark_tcp_dissect_pdus(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                                int desegment, unsigned fixed_len,
                                unsigned (*get_pdu_len)(packet_info *, tvbuff_t *, int, void *),
                                dissector_t dissect_pdu, void *data)
{
    volatile int ret = -1;
    TRY {
        tcp_dissect_pdus(tvb, pinfo, tree, desegment ? TRUE : FALSE, fixed_len,
                         get_pdu_len, dissect_pdu, data);
        ret = tvb_captured_length(tvb);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
        ret = -1;
    }
    ENDTRY;
    return ret;
}

void appleshark_report_failure(const char *msg)
{
    report_failure("%s", msg);
}

void appleshark_show_cut(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree)
{
    show_exception(tvb, pinfo, tree, BoundsError, NULL);
}
