//! The Debian packages (`scripts/package`, D136) in a fresh Debian 12 root, as an operator meets them: install,
//! `hcpki init` and `hcpki serve` as the system user `hcpki` with the key passphrase handed over as systemd
//! hands a `LoadCredential=` credential, `/healthz` answering, an upgrade that keeps the operator's conffile and
//! the state, removal, purge; then the package over a hand-made installation, whose files are kept. Owners and
//! modes are checked at each step, and that no secret is readable by others.
//!
//! The root is a minbase `mmdebstrap` tarball made once and kept (`scripts/package --debian-root`, under
//! `target/`), extracted afresh for each run; the packages are the debug binaries the build stage made, stripped
//! and packed with gzip -1 (`--profile debug --fast`). Needs root (chroot), as CI runs.

use crate::harness::{describe, free_port, repo_root};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[test]
fn packages_install_serve_upgrade_remove_and_purge_in_a_fresh_debian_root() {
    let work = tempfile::Builder::new().prefix("hcpki-package-").tempdir().unwrap();
    let debs = work.path().join("debs");
    let root = work.path().join("root");
    let tarball = repo_root().join("target/debian-root/bookworm-minbase.tar");
    let started = Instant::now();
    ok(Command::new(repo_root().join("scripts/package")).arg("--debian-root").arg(&tarball));
    let packed = Command::new(repo_root().join("scripts/package"))
        .args(["--profile", "debug", "--fast", "--units", "--version", "0.1.0", "--out"])
        .arg(&debs)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(packed.status.success(), "{}", describe(&packed));
    let built = String::from_utf8_lossy(&packed.stdout).into_owned();
    let v1: Vec<&str> = built.lines().collect();
    assert_eq!(v1.len(), 2, "{built}");
    // systemd-analyze verify passed (the script stops otherwise) and the system unit is rated OK or better.
    let analysed = String::from_utf8_lossy(&packed.stderr);
    let rating = analysed.lines().find(|l| l.contains("Overall exposure level for hcpki.service")).unwrap_or_default();
    assert!(["SAFE", "OK"].iter().any(|r| rating.contains(r)), "{analysed}");
    // lintian beside the rest (it takes tens of seconds, mostly waiting): every tag fixed or overridden.
    let lintian = Command::new("lintian")
        .args(["--fail-on", "error,warning"])
        .args(&v1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lintian (scripts/deps installs it)");
    let v2 = newer_version(work.path(), Path::new(v1[0]), &debs.join("hcpki_0.1.1_amd64.deb"));
    std::fs::create_dir(&root).unwrap();
    ok(Command::new("tar").arg("-xf").arg(&tarball).arg("-C").arg(&root));
    eprintln!("package: root and packages ready in {:.1} s", started.elapsed().as_secs_f64());
    let r = Root(root.clone());
    for deb in v1.iter().copied().chain([v2.to_str().unwrap()]) {
        std::fs::copy(deb, root.join("tmp").join(Path::new(deb).file_name().unwrap())).unwrap();
    }

    // Install: the system user, the binaries, /etc/hcpki with a root-only credential, /var/lib/hcpki for hcpki.
    r.ok(&["dpkg", "-i", "/tmp/hcpki_0.1.0_amd64.deb", "/tmp/hcpki-agent_0.1.0_amd64.deb"]);
    let (uid, gid) = r.user("hcpki");
    assert!(uid < 1000 && uid > 0, "a system user: {uid}");
    r.expect("usr/bin/hcpki", 0o755, 0, 0);
    r.expect("usr/bin/hcpki-agent", 0o755, 0, 0);
    r.expect("lib/systemd/system/hcpki.service", 0o644, 0, 0);
    r.expect("usr/lib/systemd/user/hcpki-agent.service", 0o644, 0, 0);
    r.expect("etc/hcpki", 0o755, 0, 0);
    r.expect("etc/hcpki/serve.env", 0o644, 0, 0);
    r.expect("etc/hcpki/credentials", 0o700, 0, 0);
    r.expect("etc/hcpki/credentials/key-passphrase", 0o600, 0, 0);
    r.expect("var/lib/hcpki", 0o750, uid, gid);
    let passphrase = r.read("etc/hcpki/credentials/key-passphrase");
    assert!(passphrase.len() >= 43, "32 random bytes in base64: {passphrase:?}");

    // `hcpki init` as hcpki, the passphrase as the credential systemd would copy into /run/credentials.
    r.credential(uid, gid, &passphrase);
    r.as_hcpki(
        uid,
        gid,
        &["hcpki", "init", "--passphrase-credential", "key-passphrase", "--organization", "Package test"],
    );
    let config = r.read("var/lib/hcpki/hcpki.toml");
    assert!(
        config.contains("passphrase_credential = \"key-passphrase\"") && !config.contains("passphrase_file"),
        "{config}"
    );
    assert!(!r.0.join("var/lib/hcpki/secrets/key-passphrase").exists(), "no passphrase file beside the keys");
    r.no_secret_readable_by_others(uid);
    r.serve_answers_healthz(uid, gid);

    // Upgrade: the operator's serve.env kept (the new one beside it), the state and credential untouched.
    let edited = format!("{}\n# the operator's own line\n", r.read("etc/hcpki/serve.env"));
    std::fs::write(r.0.join("etc/hcpki/serve.env"), &edited).unwrap();
    let before = r.read("var/lib/hcpki/hcpki.toml");
    r.ok(&["dpkg", "-i", "--force-confold", "/tmp/hcpki_0.1.1_amd64.deb"]);
    assert_eq!(r.ok(&["dpkg-query", "-W", "-f", "${Version}", "hcpki"]), "0.1.1");
    assert_eq!(r.read("etc/hcpki/serve.env"), edited, "a changed conffile is never overwritten");
    assert!(r.read("etc/hcpki/serve.env.dpkg-dist").contains("0.1.1"), "the package's new serve.env beside it");
    assert_eq!(r.read("var/lib/hcpki/hcpki.toml"), before);
    assert_eq!(r.read("etc/hcpki/credentials/key-passphrase"), passphrase);
    r.expect("var/lib/hcpki", 0o750, uid, gid);
    r.serve_answers_healthz(uid, gid);
    r.no_secret_readable_by_others(uid);

    // Remove keeps everything but the programs; purge deletes the state and /etc/hcpki, and only then.
    r.ok(&["dpkg", "-r", "hcpki", "hcpki-agent"]);
    assert!(!r.0.join("usr/bin/hcpki").exists() && !r.0.join("usr/bin/hcpki-agent").exists());
    assert_eq!(r.read("var/lib/hcpki/hcpki.toml"), before, "remove keeps the state");
    assert_eq!(r.read("etc/hcpki/credentials/key-passphrase"), passphrase, "remove keeps the credential");
    r.ok(&["dpkg", "-P", "hcpki", "hcpki-agent"]);
    for gone in ["var/lib/hcpki", "etc/hcpki", "etc/hcpki-agent", "lib/systemd/system/hcpki.service"] {
        assert!(!r.0.join(gone).exists(), "{gone} after purge");
    }
    assert_eq!(r.user("hcpki"), (uid, gid), "the system user stays, as Debian's policy advises");

    // A hand-made installation under the same paths: every file kept, the operator told what to do.
    std::fs::create_dir_all(r.0.join("var/lib/hcpki")).unwrap();
    std::fs::create_dir_all(r.0.join("etc/hcpki/credentials")).unwrap();
    std::fs::write(r.0.join("var/lib/hcpki/hcpki.toml"), "# hand-made\n").unwrap();
    std::fs::write(r.0.join("etc/hcpki/serve.env"), "HCPKI_HTTPS_ADDR=0.0.0.0:9443\n").unwrap();
    std::fs::write(r.0.join("etc/hcpki/credentials/key-passphrase"), "hand-made").unwrap();
    let out = r.run(&["dpkg", "-i", "--force-confold", "/tmp/hcpki_0.1.0_amd64.deb"]);
    assert!(out.status.success(), "{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("/var/lib/hcpki already exists (owner root:root) and was left as it is"), "{said}");
    assert!(said.contains("An existing installation"), "{said}");
    assert_eq!(r.read("var/lib/hcpki/hcpki.toml"), "# hand-made\n");
    assert_eq!(r.read("etc/hcpki/serve.env"), "HCPKI_HTTPS_ADDR=0.0.0.0:9443\n");
    assert_eq!(r.read("etc/hcpki/credentials/key-passphrase"), "hand-made");
    r.expect("var/lib/hcpki", 0o755, 0, 0);
    let linted = lintian.wait_with_output().unwrap();
    assert!(linted.status.success(), "lintian\n{}", describe(&linted));
    eprintln!("package: whole test {:.1} s", started.elapsed().as_secs_f64());
}

/// The Debian 12 root under test.
struct Root(PathBuf);

impl Root {
    /// `chroot ROOT ARGS`, success or not.
    fn run(&self, args: &[&str]) -> Output {
        Command::new("chroot")
            .arg(&self.0)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{}\n{}", args.join(" "), describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.0.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn user(&self, name: &str) -> (u32, u32) {
        let line = self.ok(&["getent", "passwd", name]);
        let f: Vec<&str> = line.trim().split(':').collect();
        (f[2].parse().unwrap(), f[3].parse().unwrap())
    }

    /// `path` has exactly this mode, owner and group.
    fn expect(&self, path: &str, mode: u32, uid: u32, gid: u32) {
        let m = std::fs::symlink_metadata(self.0.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (mode, uid, gid), "{path}: (mode, uid, gid)");
    }

    /// What systemd does for `LoadCredential=key-passphrase:/etc/hcpki/credentials/key-passphrase`: a copy
    /// readable by the service's user alone, in a directory of its own.
    fn credential(&self, uid: u32, gid: u32, passphrase: &str) {
        let dir = self.0.join("run/credentials/hcpki.service");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("key-passphrase"), passphrase).unwrap();
        for (path, mode) in [(dir.join("key-passphrase"), 0o400), (dir.clone(), 0o500)] {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        }
    }

    /// `ARGS` as the user hcpki with the unit's environment and umask (serve.env, HCPKI_DIR, the credential).
    fn hcpki_command(&self, uid: u32, gid: u32, args: &[&str]) -> Command {
        let mut cmd = Command::new("/usr/sbin/chroot");
        cmd.arg(format!("--userspec={uid}:{gid}"))
            .arg(&self.0)
            .args(["/bin/sh", "-c", "umask 077 && set -a && . /etc/hcpki/serve.env && set +a && exec \"$@\"", "sh"])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/var/lib/hcpki")
            .env("HCPKI_DIR", "/var/lib/hcpki")
            .env("CREDENTIALS_DIRECTORY", "/run/credentials/hcpki.service")
            .stdin(Stdio::null());
        cmd
    }

    fn as_hcpki(&self, uid: u32, gid: u32, args: &[&str]) {
        let out = self.hcpki_command(uid, gid, args).output().unwrap();
        assert!(out.status.success(), "{} as hcpki\n{}", args.join(" "), describe(&out));
    }

    /// `hcpki serve` as hcpki on free ports answers `/healthz` over plain HTTP, then stops on SIGTERM.
    fn serve_answers_healthz(&self, uid: u32, gid: u32) {
        let (https, http) = (free_port(), free_port());
        let log = self.0.join("tmp/serve.log");
        let mut cmd = self.hcpki_command(uid, gid, &["hcpki", "serve"]);
        // serve.env's addresses would win over the environment (it is sourced last): free ports go on the command line.
        cmd.args(["--https-addr", &format!("127.0.0.1:{https}"), "--http-addr", &format!("127.0.0.1:{http}")]);
        let mut child =
            cmd.stdout(Stdio::piped()).stderr(std::fs::File::create(&log).unwrap()).spawn().expect("start hcpki serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let answer = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .arg(format!("http://127.0.0.1:{http}/healthz"))
            .output()
            .unwrap();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "hcpki serve did not stop\n{}", std::fs::read_to_string(&log).unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(line.contains("hcpki listening"), "{line:?}\n{logged}");
        assert_eq!(String::from_utf8_lossy(&answer.stdout), "ok\n", "{}\n{logged}", describe(&answer));
    }

    /// Nothing under /var/lib/hcpki or /etc/hcpki that others may read holds a secret: the only file readable by
    /// others is serve.env, the state directory is closed to them, and every state file belongs to hcpki.
    fn no_secret_readable_by_others(&self, uid: u32) {
        let mut walk = vec![self.0.join("var/lib/hcpki"), self.0.join("etc/hcpki")];
        while let Some(path) = walk.pop() {
            let m = std::fs::symlink_metadata(&path).unwrap();
            let shown = path.strip_prefix(&self.0).unwrap().display().to_string();
            if m.is_dir() {
                walk.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                if shown != "etc/hcpki" {
                    assert_eq!(m.mode() & 0o007, 0, "{shown}: a directory open to others");
                }
            } else if shown != "etc/hcpki/serve.env" && !shown.ends_with(".dpkg-dist") {
                assert_eq!(m.mode() & 0o007, 0, "{shown}: readable by others ({:o})", m.mode() & 0o777);
            }
            if shown.starts_with("var/lib/hcpki") {
                assert_eq!(m.uid(), uid, "{shown}: owned by hcpki");
            }
        }
    }
}

/// A copy of the `hcpki` package `v1` as version 0.1.1 with one more line in its serve.env (what a release
/// that changes the conffile looks like to dpkg), at `to`.
fn newer_version(work: &Path, v1: &Path, to: &Path) -> PathBuf {
    let tree = work.join("v2");
    ok(Command::new("dpkg-deb").arg("-R").arg(v1).arg(&tree));
    let control = tree.join("DEBIAN/control");
    let text = std::fs::read_to_string(&control).unwrap().replace("Version: 0.1.0\n", "Version: 0.1.1\n");
    std::fs::write(&control, text).unwrap();
    let env = tree.join("etc/hcpki/serve.env");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("{text}# changed in 0.1.1\n")).unwrap();
    ok(Command::new("dpkg-deb").args(["--root-owner-group", "-Zgzip", "-z1", "--build"]).arg(&tree).arg(to));
    to.to_owned()
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{cmd:?}\n{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
