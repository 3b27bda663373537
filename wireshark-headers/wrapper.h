/*
 * appleshark: the bindgen input. Everything Rust may call in epan is reached through the
 * headers included here, filtered by the allow-lists in build.rs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/unit_strings.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/conversation.h>
#include <epan/proto_data.h>
#include <epan/column-utils.h>
#include <epan/tap.h>
#include <epan/wmem_scopes.h>
#include <epan/dissectors/packet-tcp.h>
#include <wiretap/wtap.h>  /* WTAP_ENCAP_* (not pulled in by epan headers from 4.4 on) */
#include "shim.h"
#include "shim_column.h"
#include "shim_media.h"
#include "shim_post.h"
#include "shim_tap.h"
#include "shim_uat.h"

/*
 * The heuristic dissector's return type is gboolean (int) in 4.0 and bool from 4.2/4.4 on.
 * Taking it from the function-pointer type lets bindgen resolve it for the version at hand.
 */
typedef __typeof__(((heur_dissector_t)0)(NULL, NULL, NULL, NULL)) appleshark_heur_ret_t;
