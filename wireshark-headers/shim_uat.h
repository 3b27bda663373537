/*
 * appleshark C shim, UAT area: a one-column "list of names" user table (UAT), shown in the
 * protocol's preferences and stored in the profile. The record type, the field callbacks
 * and the update callback (whose return type changed from gboolean to bool) live here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APPLESHARK_SHIM_UAT_H
#define APPLESHARK_SHIM_UAT_H

/* Called after the table was loaded or edited, with every name in it (UTF-8). */
typedef void (*appleshark_name_list_cb)(const char *const *names, unsigned count);

/* Registers the table `uat_name` (also its file name in the profile) as preference `pref_name`
 * of the module of protocol `proto_filter_name`. Only one such table per plugin: a second
 * call returns -1 and does nothing. All strings must live forever. Registration phase only. */
int appleshark_uat_name_list(const char *proto_filter_name, const char *pref_name,
                             const char *uat_name, const char *title, const char *description,
                             const char *column_title, const char *column_description,
                             appleshark_name_list_cb cb);

#endif
