//! Runs the real tshark with the freshly built plugin.
//!
//! The plugin (`libappleshark.so` next to the test binary's `deps/` folder, built by the same
//! `cargo test`) is copied into a temporary HOME's personal plugin folder
//! `.local/lib/wireshark/plugins/<major.minor>/epan/`. tshark run as root silently ignores
//! personal plugins, so when the tests run as root tshark is started as `nobody` with
//! `setpriv`, and everything it reads is made world-readable. `WIRESHARK_PLUGIN_DIR` points
//! at an empty folder, so a copy installed system-wide is not loaded; once per test binary
//! the harness asks `tshark -G plugins` and fails unless the test copy is the only one.
//! [`Tshark::stock`] is the same without the plugin (tests of stock dissection).
//!
//! Environment:
//! - `TSHARK`: the tshark binary (default `tshark` on PATH);
//! - `APPLESHARK_TSHARK_PREFIX`: a command put in front of everything (e.g. `chroot /srv/sid`),
//!   with `APPLESHARK_TSHARK_ROOT` the directory that prefix sees as `/` (temporary files are
//!   then created under that root).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub struct Tshark {
    /// Temporary HOME (as seen from the host).
    home: PathBuf,
    /// The root tshark sees (host `/` unless a chroot prefix is set).
    root: PathBuf,
    /// major.minor of the tshark in use.
    pub version: String,
    as_nobody: bool,
    /// The command put in front (`APPLESHARK_TSHARK_PREFIX`, or nothing).
    prefix: Vec<String>,
}

fn is_root() -> bool {
    // SAFETY-free check: `id -u` avoids a libc dependency in tests.
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn prefix() -> Vec<String> {
    std::env::var("APPLESHARK_TSHARK_PREFIX").map(|p| p.split_whitespace().map(String::from).collect()).unwrap_or_default()
}

/// The built plugin. `cargo test` builds the library only as an rlib, so the harness asks
/// cargo for the cdylib (same profile as the tests; a no-op when it is up to date) and takes
/// the path cargo reports. `APPLESHARK_PLUGIN` names a prebuilt one instead (e.g. built for
/// another Wireshark version).
pub fn plugin_path() -> PathBuf {
    if let Ok(p) = std::env::var("APPLESHARK_PLUGIN") {
        return PathBuf::from(p);
    }
    build_plugin(&[], None)
}

/// The plugin with the cargo feature `test-hooks` (hooks the release plugin does not have,
/// such as the provoked panic of tests/snatmap.rs), for tshark `version` (major.minor).
/// `APPLESHARK_PLUGIN_TEST_HOOKS` names a prebuilt one; otherwise cargo builds it (once per
/// test binary that asks; a no-op when up to date) into a target directory of its own,
/// `<target>/test-hooks`, so the ordinary plugin is never rebuilt. When `APPLESHARK_PLUGIN`
/// names a prebuilt plugin (maybe for another Wireshark version), this one is built against
/// the headers of the tshark under test (`wireshark-headers/fetch-headers.sh <version>`, a
/// cache) into `<target>/test-hooks-<version>`.
pub fn plugin_with_test_hooks(version: &str) -> PathBuf {
    if let Ok(p) = std::env::var("APPLESHARK_PLUGIN_TEST_HOOKS") {
        return PathBuf::from(p);
    }
    let target = target_dir();
    if std::env::var_os("APPLESHARK_PLUGIN").is_none() {
        return build_plugin(&["--features", "test-hooks"], Some((target.join("test-hooks"), None)));
    }
    let out = Command::new("wireshark-headers/fetch-headers.sh")
        .arg(version)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("wireshark-headers/fetch-headers.sh runs");
    assert!(out.status.success(), "fetching Wireshark {version}'s headers failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let include = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
    build_plugin(&["--features", "test-hooks"], Some((target.join(format!("test-hooks-{version}")), Some(include))))
}

/// `target/<profile>` of this test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(|d| d.parent()).expect("target/<profile>").to_path_buf()
}

/// The target directory of this test binary.
fn target_dir() -> PathBuf {
    profile_dir().parent().expect("target directory").to_path_buf()
}

/// `cargo build --lib` (in the test binary's profile) with `args`, optionally into another
/// target directory and against the headers in another include directory; the .so cargo
/// reports.
fn build_plugin(args: &[&str], elsewhere: Option<(PathBuf, Option<String>)>) -> PathBuf {
    let release = profile_dir().file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--lib", "--message-format=json"]).args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if release {
        cmd.arg("--release");
    }
    if let Some((dir, include)) = elsewhere {
        cmd.arg("--target-dir").arg(dir);
        if let Some(inc) = include {
            cmd.env("APPLESHARK_WS_INCLUDE", inc);
        }
    }
    let out = cmd.output().expect("cargo runs");
    assert!(out.status.success(), "building the plugin failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"compiler-artifact\"") && l.contains("\"name\":\"appleshark\""))
        .flat_map(|l| l.split('"').filter(|s| s.ends_with("libappleshark.so")).map(PathBuf::from).collect::<Vec<_>>())
        .next()
        .expect("cargo reported the plugin's .so")
}

fn chmod_world_readable(path: &Path) {
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(path).status();
}

impl Tshark {
    /// The shared instance for this test binary (plugin installed once).
    pub fn get() -> &'static Tshark {
        static T: OnceLock<Tshark> = OnceLock::new();
        T.get_or_init(|| Tshark::install(Some(|_| plugin_path()), "home", prefix()))
    }

    /// The same as [`Tshark::get`], with the plugin built with the `test-hooks` feature
    /// ([`plugin_with_test_hooks`]): only for tests of those hooks.
    pub fn with_test_hooks() -> &'static Tshark {
        static T: OnceLock<Tshark> = OnceLock::new();
        T.get_or_init(|| Tshark::install(Some(plugin_with_test_hooks), "hooks-home", prefix()))
    }

    /// The same tshark (same prefix, user and empty global plugin folder) in a HOME without
    /// the plugin: stock Wireshark's reading, the oracle for "the plugin changes nothing".
    pub fn stock() -> &'static Tshark {
        static T: OnceLock<Tshark> = OnceLock::new();
        T.get_or_init(|| Tshark::install(None, "stock-home", prefix()))
    }

    /// The host's stock tshark (`TSHARK` or PATH; never the chroot of
    /// `APPLESHARK_TSHARK_PREFIX`: one reference Wireshark for checks of the test fixtures
    /// themselves). The same isolation (private HOME, empty global plugin folder, not root)
    /// but no appleshark at all, checked like [`Tshark::get`]'s copy.
    pub fn host_stock() -> &'static Tshark {
        static T: OnceLock<Tshark> = OnceLock::new();
        T.get_or_init(|| Tshark::install(None, "stock-home", Vec::new()))
    }

    /// A private HOME for this tshark (`kind` names it), with the plugin `plugin(version)`
    /// returns installed, or none.
    fn install(plugin: Option<fn(&str) -> PathBuf>, kind: &str, prefix: Vec<String>) -> Tshark {
        let root = if prefix.is_empty() {
            PathBuf::from("/")
        } else {
            std::env::var("APPLESHARK_TSHARK_ROOT").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/"))
        };
        let as_nobody = is_root();
        let mut t = Tshark { home: PathBuf::new(), root: root.clone(), version: String::new(), as_nobody, prefix };
        // Ask tshark its version (as root that only prints a warning, which we ignore).
        let out = t.command(&["--version"]).output().expect("tshark runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let v = text
            .split_whitespace()
            .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.matches('.').count() >= 2)
            .expect("tshark --version prints a version");
        let mut parts = v.split('.');
        t.version = format!("{}.{}", parts.next().unwrap(), parts.next().unwrap());

        let home = root.join(format!("tmp/appleshark-{kind}-{}", std::process::id()));
        let plugdir = home.join(format!(".local/lib/wireshark/plugins/{}/epan", t.version));
        std::fs::create_dir_all(&plugdir).unwrap();
        std::fs::create_dir_all(home.join("no-global-plugins")).unwrap();
        if let Some(plugin) = plugin {
            std::fs::copy(plugin(&t.version), plugdir.join("appleshark.so")).unwrap();
        }
        chmod_world_readable(&home);
        t.home = home;
        t.check_loaded_copy(plugin.map(|_| plugdir.join("appleshark.so")).as_deref());
        t
    }

    /// Asks this tshark which plugins it loads (`-G plugins`, once per test binary): exactly
    /// the test copy `expected` (or no appleshark at all), never one installed system-wide
    /// or in the real user's folders.
    fn check_loaded_copy(&self, expected: Option<&Path>) {
        let listing = self.stdout(&["-G", "plugins"]);
        let ours: Vec<&str> = listing.lines().filter(|l| l.to_ascii_lowercase().contains("appleshark")).collect();
        let path_of = |l: &str| l.rsplit('\t').next().unwrap_or("").trim().to_string();
        match expected {
            Some(p) => {
                let want = self.inside(p);
                assert!(
                    ours.len() == 1 && path_of(ours[0]) == want,
                    "tshark {} must load exactly the test copy {want}, but `tshark -G plugins` lists:\n{}",
                    self.version,
                    ours.join("\n")
                );
                eprintln!("tshark harness: Wireshark {} loads the test copy {want} (only)", self.version);
            }
            None => {
                assert!(ours.is_empty(), "stock tshark {} must load no appleshark, but lists:\n{}", self.version, ours.join("\n"));
                eprintln!("tshark harness: stock Wireshark {} (no appleshark loaded)", self.version);
            }
        }
    }

    /// A path for a new temporary file that tshark can read, and its name as tshark sees it.
    pub fn temp_file(&self, name: &str) -> (PathBuf, String) {
        let dir = self.home.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        chmod_world_readable(&dir);
        let host = dir.join(name);
        let seen = self.inside(&host);
        (host, seen)
    }

    /// How a host path looks from inside the (possibly chrooted) tshark.
    pub fn inside(&self, host: &Path) -> String {
        match host.strip_prefix(&self.root) {
            Ok(rel) if self.root != Path::new("/") => format!("/{}", rel.display()),
            _ => host.display().to_string(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.command_env(&[], args)
    }

    fn command_env(&self, env: &[&str], args: &[&str]) -> Command {
        let mut argv: Vec<String> = self.prefix.clone();
        if self.as_nobody {
            argv.extend(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"].map(String::from));
        }
        argv.push("env".into());
        if !self.home.as_os_str().is_empty() {
            argv.push(format!("HOME={}", self.inside(&self.home)));
            // An empty global plugin folder: a copy of appleshark installed system-wide must
            // not load next to the one under test. Wireshark 4.x uses WIRESHARK_PLUGIN_DIR
            // *instead of* the global folder, and only when not run as root (hence nobody);
            // check_loaded_copy verifies it.
            argv.push(format!("WIRESHARK_PLUGIN_DIR={}", self.inside(&self.home.join("no-global-plugins"))));
        }
        argv.extend(env.iter().map(|s| s.to_string()));
        argv.push(std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into()));
        argv.extend(args.iter().map(|s| s.to_string()));
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).current_dir("/");
        c
    }

    /// Runs tshark with `args`; panics with its stderr when it fails.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(&[], args)
    }

    /// Runs tshark with extra `NAME=value` environment entries.
    pub fn run_env(&self, env: &[&str], args: &[&str]) -> Output {
        let out = self.command_env(env, args).output().expect("tshark runs");
        assert!(out.status.success(), "tshark {args:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Runs tshark and returns stdout.
    pub fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.run(args).stdout).into_owned()
    }

    /// The abbreviations of every field `tshark -G fields` lists for protocol `proto` (its
    /// filter name), after checking that each is registered once and under `proto.`.
    pub fn registered_fields(&self, proto: &str) -> Vec<String> {
        let fields = self.stdout(&["-G", "fields"]);
        let ours: Vec<String> = fields
            .lines()
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                (c.first() == Some(&"F") && c.get(4) == Some(&proto)).then(|| c[2].to_string())
            })
            .collect();
        let mut d = ours.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), ours.len(), "{proto}: duplicate abbrevs");
        let prefix = format!("{proto}.");
        assert!(ours.iter().all(|f| f.starts_with(&prefix)), "{proto}: a field outside {prefix}*: {ours:?}");
        ours
    }

    /// Writes `pcap` (bytes) as a capture tshark can read; returns its name as tshark sees it.
    pub fn capture(&self, name: &str, pcap: &[u8]) -> String {
        let (host, seen) = self.temp_file(name);
        std::fs::write(&host, pcap).unwrap();
        chmod_world_readable(&host);
        seen
    }

    /// `tshark -r FILE [-2] [-Y filter] -T fields -e …` → one row per frame, one cell per
    /// field (occurrences joined with ','). `extra` goes before the output options.
    pub fn fields(&self, file: &str, filter: Option<&str>, fields: &[&str], extra: &[&str]) -> Vec<Vec<String>> {
        self.fields_env(&[], file, filter, fields, extra)
    }

    /// The Info column of every frame, from tshark's summary lines (`-o
    /// gui.column.format:"Info","%i"`). Unlike `-e _ws.col.Info`, which from 4.4 on holds
    /// the column as it was before post-dissectors ran, this is what the GUI shows.
    pub fn info_column(&self, file: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<&str> = vec!["-r", file, "-n", "-o", "gui.column.format:\"Info\",\"%i\""];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&self.run(&args).stdout).lines().map(|l| l.trim().to_string()).collect()
    }

    /// The summary columns `cols` (title, format, e.g. `("Info", "%i")`) of every frame, one
    /// cell per column, from `-T tabs` with `-o gui.column.format`: the columns as the GUI shows
    /// them once every dissector, post-dissectors included, has run (see [`Tshark::info_column`]).
    pub fn columns(&self, file: &str, cols: &[(&str, &str)], extra: &[&str]) -> Vec<Vec<String>> {
        let format = cols.iter().map(|(t, f)| format!("\"{t}\",\"{f}\"")).collect::<Vec<_>>().join(",");
        let opt = format!("gui.column.format:{format}");
        let mut args: Vec<&str> = vec!["-r", file, "-n", "-T", "tabs", "-o", &opt];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&self.run(&args).stdout).lines().map(|l| l.split('\t').map(|c| c.trim().to_string()).collect()).collect()
    }

    /// [`Tshark::fields`] with extra environment entries.
    pub fn fields_env(&self, env: &[&str], file: &str, filter: Option<&str>, fields: &[&str], extra: &[&str]) -> Vec<Vec<String>> {
        let mut args: Vec<&str> = vec!["-r", file, "-n"];
        args.extend_from_slice(extra);
        if let Some(f) = filter {
            args.extend(["-Y", f]);
        }
        args.extend(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]);
        for f in fields {
            args.extend(["-e", f]);
        }
        String::from_utf8_lossy(&self.run_env(env, &args).stdout)
            .lines()
            .map(|l| l.split('\t').map(canonical_cell).collect())
            .collect()
    }
}

/// Canonical form of a `-T fields` cell across versions, as 4.0 prints it:
/// - booleans: 4.0 prints 1/0, 4.4 and later True/False (occurrences joined by ',');
/// - absolute times: 4.0 and 4.4 print `Nov 14, 2023 22:13:20.123000000 UTC`, 4.6 prints
///   ISO 8601 `2023-11-14T22:13:20.123000000Z`.
fn canonical_cell(cell: &str) -> String {
    if cell.split(',').all(|c| c == "True" || c == "False") && !cell.is_empty() {
        return cell.split(',').map(|c| if c == "True" { "1" } else { "0" }).collect::<Vec<_>>().join(",");
    }
    if cell.split(',').all(|c| iso_to_classic(c).is_some()) && !cell.is_empty() {
        return cell.split(',').map(|c| iso_to_classic(c).unwrap()).collect::<Vec<_>>().join(",");
    }
    cell.to_string()
}

fn iso_to_classic(c: &str) -> Option<String> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let b = c.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !c.ends_with('Z') {
        return None;
    }
    let (date, time) = (&c[..10], &c[11..c.len() - 1]);
    let month: usize = date[5..7].parse().ok()?;
    let day: u32 = date[8..10].parse().ok()?;
    Some(format!("{} {day:2}, {} {time} UTC", MONTHS.get(month.checked_sub(1)?)?, &date[..4]))
}

impl Drop for Tshark {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
