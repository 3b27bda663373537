/* epanfuzz.c: drives libwireshark's dissection engine for the in-epan fuzz targets
 * (fuzz-epan/, docs/robustness.md section 4).
 *
 * Written for this project after reading how Wireshark's own fuzzer (fuzz/fuzzshark.c)
 * sets epan up: wiretap first, then epan_init, the profile's preferences, one epan session
 * and one epan_dissect_t reused for every frame. Differences: the plugin is registered by
 * the caller before epan_init (proto_register_plugin, as a statically linked plugin), the
 * frames carry a real link-layer type (raw IPv4 or Wireshark's exported-PDU encapsulation)
 * instead of an unknown one with a post-dissector, a column_info is filled (our code writes
 * the Info column), and every input gets a fresh session (epan_free + epan_new: all
 * conversation and file-scoped state dropped) and is dissected twice, once as the first pass
 * and once with the frames marked visited, as tshark -2 and the GUI do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/frame_data.h>
#include <epan/prefs.h>
#include <epan/column.h>
#include <epan/column-info.h>
#include <epan/timestamp.h>
#include <epan/tvbuff.h>
#include <epan/proto.h>
#include <wiretap/wtap.h>
#include <wiretap/pcap-encap.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>

/* Every frame's time: 2024-01-01 plus one millisecond per frame number, the same clock
 * the replay test (tests/epan_fuzz_replay.rs) writes into its pcap files. */
#define EPANFUZZ_BASE_SECS 1704067200

static epan_t *session;
static epan_dissect_t *edt;
static column_info cinfo;
static e_prefs *prefs_p;
static guint32 framenum;

static nstime_t frame_time(guint32 num)
{
	nstime_t t;
	t.secs = EPANFUZZ_BASE_SECS + num / 1000;
	t.nsecs = (int)(num % 1000) * 1000000;
	return t;
}

static const nstime_t *get_frame_ts(struct packet_provider_data *prov, guint32 num)
{
	static nstime_t t;
	(void)prov;
	t = frame_time(num);
	return &t;
}

static const struct packet_provider_funcs provider_funcs = { get_frame_ts, NULL, NULL, NULL };

static void new_session(void)
{
	framenum = 0;
	session = epan_new(NULL, &provider_funcs);
	/* A tree, and visible: every item is really added, as with tshark -V or the GUI. */
	edt = epan_dissect_new(session, TRUE, TRUE);
}

static void free_session(void)
{
	epan_dissect_free(edt);
	edt = NULL;
	epan_free(session);
	session = NULL;
}

/* Sets one preference ("module.name:value"); 0 on success. */
int epanfuzz_set_pref(const char *pref)
{
	char *copy = g_strdup(pref);
	char *errmsg = NULL;
	prefs_set_pref_e r = prefs_set_pref(copy, &errmsg);
	if (r != PREFS_SET_OK)
		fprintf(stderr, "epanfuzz: preference %s not set: %s\n", pref, errmsg ? errmsg : "(no message)");
	g_free(errmsg);
	g_free(copy);
	return r == PREFS_SET_OK ? 0 : -1;
}

/* Once per process, after the plugin registered itself (proto_register_plugin). 0: ready. */
int epanfuzz_init(const char *argv0)
{
	char *err;

	/* No personal or global profile: the defaults, whatever the machine has in ~/.config. */
	g_setenv("XDG_CACHE_HOME", "/nonexistent/epanfuzz", TRUE);
	g_setenv("XDG_CONFIG_HOME", "/nonexistent/epanfuzz", TRUE);
	g_setenv("XDG_DATA_HOME", "/nonexistent/epanfuzz", TRUE);
	g_setenv("WIRESHARK_CONFIG_DIR", "/nonexistent/epanfuzz", TRUE);

	/* Wireshark's log (GLib's messages go through it too): warnings and worse printed, and a
	 * critical aborts, as with tshark --log-fatal critical: libFuzzer keeps the input. */
	ws_log_init("epanfuzz", NULL);
	ws_log_set_level(LOG_LEVEL_WARNING);
	ws_log_set_fatal(LOG_LEVEL_CRITICAL);

	init_process_policies();
	err = configuration_init(argv0, NULL);
	if (err != NULL) {
		fprintf(stderr, "epanfuzz: configuration_init: %s\n", err);
		g_free(err);
	}
	timestamp_set_type(TS_RELATIVE);
	timestamp_set_precision(TS_PREC_AUTO);
	timestamp_set_seconds_type(TS_SECONDS_DEFAULT);

	/* wiretap before epan (file-type-dependent handlers); no plugins from disk for either:
	 * the only plugin is the one linked into this binary. */
	wtap_init(FALSE);
	if (!epan_init(NULL, NULL, FALSE)) {
		fprintf(stderr, "epanfuzz: epan_init failed\n");
		return -1;
	}
	prefs_p = epan_load_settings();
	prefs_apply_all();
	build_column_format_array(&cinfo, prefs_p->num_cols, TRUE);
	new_session();
	return 0;
}

/* Whether a protocol with this filter name is registered and enabled. */
int epanfuzz_has_protocol(const char *filter_name)
{
	int id = proto_get_id_by_filter_name(filter_name);
	return id >= 0 && proto_is_protocol_enabled(find_protocol_by_id(id));
}

static void dissect(frame_data *fd, wtap_rec *rec, const uint8_t *buf, size_t len)
{
	tvbuff_t *tvb = tvb_new_real_data(buf, (guint)len, (gint)len);
	epan_dissect_run(edt, WTAP_FILE_TYPE_SUBTYPE_UNKNOWN, rec, tvb, fd, &cinfo);
	/* Fill the columns as tshark does when it prints a summary line. */
	epan_dissect_fill_in_columns(edt, FALSE, TRUE);
	epan_dissect_reset(edt);
}

/* Drops all dissection state: a new epan session (conversations, file scope, the plugin's
 * per-capture trackers). Costly (every protocol's init routines: about 0.1 s), so the
 * caller does it every N inputs. */
void epanfuzz_reset(void)
{
	free_session();
	new_session();
}

/* Dissects one input: n frames (pcap link type, bytes), first pass then second pass. */
void epanfuzz_run(size_t n, const uint32_t *linktypes, const uint8_t *const *bufs, const size_t *lens)
{
	frame_data *fds = g_new0(frame_data, n ? n : 1);
	wtap_rec *recs = g_new0(wtap_rec, n ? n : 1);
	const frame_data *ref = NULL;
	const frame_data *prev = NULL;
	nstime_t elapsed = NSTIME_INIT_ZERO;
	guint32 cum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		wtap_rec *rec = &recs[i];
		wtap_rec_init(rec);
		rec->rec_type = REC_TYPE_PACKET;
		rec->presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
		rec->tsprec = WTAP_TSPREC_NSEC;
		rec->ts = frame_time(framenum + 1);
		rec->rec_header.packet_header.caplen = (guint32)lens[i];
		rec->rec_header.packet_header.len = (guint32)lens[i];
		rec->rec_header.packet_header.pkt_encap = wtap_pcap_encap_to_wtap_encap((int)linktypes[i]);
		frame_data_init(&fds[i], ++framenum, rec, 0, cum);
		frame_data_set_before_dissect(&fds[i], &elapsed, &ref, prev);
		dissect(&fds[i], rec, bufs[i], lens[i]);
		frame_data_set_after_dissect(&fds[i], &cum);
		prev = &fds[i];
	}
	/* Second pass: the frames again, visited, with the state of the whole input. */
	for (i = 0; i < n; i++) {
		dissect(&fds[i], &recs[i], bufs[i], lens[i]);
	}
	for (i = 0; i < n; i++) {
		frame_data_destroy(&fds[i]);
		wtap_rec_cleanup(&recs[i]);
	}
	g_free(fds);
	g_free(recs);
}
