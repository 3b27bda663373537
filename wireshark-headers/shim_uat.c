/*
 * appleshark C shim, UAT area (see shim_uat.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ws_version.h>
#include <glib.h>
#include <string.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/uat.h>
#include "shim_uat.h"

typedef struct {
    char *name;
} appleshark_name_rec_t;

static appleshark_name_rec_t *name_recs;
static guint name_count;
static appleshark_name_list_cb name_cb;
static int registered;

UAT_CSTRING_CB_DEF(appleshark_name, name, appleshark_name_rec_t)

static void *name_copy_cb(void *dest, const void *orig, size_t len)
{
    appleshark_name_rec_t *d = (appleshark_name_rec_t *)dest;
    const appleshark_name_rec_t *o = (const appleshark_name_rec_t *)orig;
    (void)len;
    d->name = g_strdup(o->name);
    return d;
}

/* uat_update_cb_t returns gboolean in 4.0 and bool later: take the type from the typedef. */
typedef __typeof__(((uat_update_cb_t)0)(NULL, NULL)) appleshark_uat_ret;

static appleshark_uat_ret name_update_cb(void *rec, char **err)
{
    appleshark_name_rec_t *r = (appleshark_name_rec_t *)rec;
    if (r->name == NULL || r->name[0] == '\0') {
        *err = g_strdup("The name is empty");
        return 0;
    }
    if (strlen(r->name) > 1024) {
        *err = g_strdup("The name is longer than 1024 bytes");
        return 0;
    }
    return 1;
}

static void name_free_cb(void *rec)
{
    g_free(((appleshark_name_rec_t *)rec)->name);
}

static void name_post_update_cb(void)
{
    const char **names = g_new0(const char *, name_count + 1);
    guint i;
    for (i = 0; i < name_count; i++)
        names[i] = name_recs[i].name ? name_recs[i].name : "";
    if (name_cb)
        name_cb(names, name_count);
    g_free(names);
}

static void name_reset_cb(void)
{
    if (name_cb)
        name_cb(NULL, 0);
}

int appleshark_uat_name_list(const char *proto_filter_name, const char *pref_name,
                             const char *uat_name, const char *title, const char *description,
                             const char *column_title, const char *column_description,
                             appleshark_name_list_cb cb)
{
    static uat_field_t fields[2];
    module_t *module;
    uat_t *uat;
    if (registered)
        return -1;
    module = prefs_find_module(proto_filter_name);
    if (module == NULL)
        return -1;
    registered = 1;
    name_cb = cb;
    {
        uat_field_t f[] = {
            UAT_FLD_CSTRING(appleshark_name, name, column_title, column_description),
            UAT_END_FIELDS
        };
        memcpy(fields, f, sizeof fields);
    }
    uat = uat_new(title, sizeof(appleshark_name_rec_t), uat_name, TRUE, &name_recs, &name_count,
                  UAT_AFFECTS_DISSECTION, NULL, name_copy_cb, name_update_cb, name_free_cb,
                  name_post_update_cb, name_reset_cb, fields);
    prefs_register_uat_preference(module, pref_name, title, description, uat);
    return 0;
}
