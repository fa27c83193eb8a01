//! Hostile input found by testing (issue #19), end to end through the binary: outputs that
//! are devices, work directories a killed build leaves, unwritable SBOM directories, dates
//! past 9999, non-UTF-8 file names, absolute symlinks, unknown package keys.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{KillOnDrop, rapko, stderr, write_config};

/// A config whose repository does not exist: any build fails at once, after the checks
/// that come before work.
fn failing_config(dir: &Path) -> PathBuf {
    write_config(
        dir,
        "missing-repo.yaml",
        "contents:\n  keyring: [FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub]\n  repositories: [/nonexistent/rapko-hostile-repo]\n  packages: [alpine-base]\narchs: [x86_64]\n",
    )
}

fn build(dir: &Path, config: &Path, output: &Path, extra: &[&str]) -> Output {
    rapko(&dir.join("cache"))
        .arg("build")
        .arg(config)
        .arg("hostile:1")
        .arg(output)
        .args(extra)
        .output()
        .expect("run rapko")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn an_output_that_is_a_device_or_fifo_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = failing_config(tmp.path());
    let fifo = tmp.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for (output, kind) in [
        (Path::new("/dev/null"), "a character device"),
        (fifo.as_path(), "a FIFO"),
    ] {
        let out = build(tmp.path(), &config, output, &[]);
        let err = stderr(&out);
        assert!(!out.status.success());
        // Refused as OUTPUT, not failed later on the missing repository.
        assert!(
            err.contains(&format!("{} exists and is {kind}", output.display())),
            "{err}"
        );
    }
    let rootfs = rapko(&tmp.path().join("cache"))
        .arg("build-minirootfs")
        .arg(&config)
        .arg("/dev/null")
        .output()
        .expect("run rapko");
    let err = stderr(&rootfs);
    assert!(!rootfs.status.success());
    assert!(
        err.contains("/dev/null exists and is a character device"),
        "{err}"
    );
    use std::os::unix::fs::FileTypeExt;
    let null = std::fs::metadata("/dev/null").expect("/dev/null");
    assert!(null.file_type().is_char_device(), "/dev/null was replaced");
    assert!(
        std::fs::metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_later_build_removes_work_directories_of_dead_builds_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = failing_config(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    // A killed build (no such pid); one whose pid now belongs to another process (pid 1)
    // and whose lock is free; a live one (this test holds its lock); and one of an older
    // rapko (no pid, no lock) that is recent. All but the last look two hours old.
    let dead = out.join(".rapko-build-999999999-abcdef");
    let reused = out.join(".rapko-build-1-mnopqr");
    let live = out.join(format!(".rapko-build-{}-ghijkl", std::process::id()));
    let old = out.join(".rapko-build-XyZ123");
    for d in [&dead, &reused, &live, &old] {
        std::fs::create_dir(d).expect("mkdir");
        std::fs::write(d.join("blob"), vec![0u8; 4096]).expect("write");
        std::fs::write(d.join(".lock"), "").expect("lock file");
    }
    std::fs::remove_file(old.join(".lock")).expect("rm");
    let lock = std::fs::File::open(live.join(".lock")).expect("lock file");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).expect("flock");
    for d in [&dead, &reused, &live] {
        let touched = Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(d)
            .status()
            .expect("touch");
        assert!(touched.success());
    }
    let result = build(tmp.path(), &config, &out.join("img.tar"), &[]);
    assert!(!result.status.success());
    assert_eq!(
        names(&out),
        vec![
            format!(".rapko-build-{}-ghijkl", std::process::id()),
            ".rapko-build-XyZ123".to_owned()
        ],
        "the dead build's directory is removed, the live and the recent unlocked ones kept"
    );
}

#[test]
fn sigkill_debris_is_removed_by_the_next_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("big-repo");
    rapko_test::write_repo(
        &repo,
        "x86_64",
        &rapko_test::big_package_set(30_000_000, 6, 11),
    );
    let config = write_config(
        tmp.path(),
        "big.yaml",
        &format!(
            "contents:\n  keyring: [{}]\n  repositories: [{}]\n  packages: [big-0000]\narchs: [x86_64]\n",
            rapko_test::test_public_key_path().display(),
            repo.display()
        ),
    );
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let mut cmd = rapko(&tmp.path().join("cache"));
    cmd.arg("build")
        .arg(&config)
        .arg("big:1")
        .arg(out.join("img.tar"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = KillOnDrop(cmd.spawn().expect("spawn rapko"));
    let start = Instant::now();
    while names(&out).is_empty() && start.elapsed() < Duration::from_secs(60) {
        assert!(
            child.0.try_wait().expect("try_wait").is_none(),
            "the build ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("wait");
    let debris = names(&out);
    assert_eq!(
        debris.len(),
        1,
        "SIGKILL leaves the work directory: {debris:?}"
    );
    assert!(debris[0].starts_with(".rapko-build-"), "{debris:?}");
    let again = build(
        tmp.path(),
        &failing_config(tmp.path()),
        &out.join("img.tar"),
        &[],
    );
    assert!(!again.status.success());
    assert_eq!(
        names(&out),
        Vec::<String>::new(),
        "the next build cleans up"
    );
}

#[test]
fn an_unwritable_sbom_path_fails_before_any_work_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = failing_config(tmp.path());
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    // /proc takes no new directories (read-only for this purpose, even as root); a path
    // under a regular file cannot be created either.
    for sbom in [PathBuf::from("/proc/rapko-sboms"), file.join("sboms")] {
        let args = ["--sbom-path", sbom.to_str().expect("utf-8")];
        let result = build(tmp.path(), &config, &out.join("img.tar"), &args);
        let err = stderr(&result);
        assert!(!result.status.success());
        assert!(
            err.contains(&format!("cannot write SBOMs in {}", sbom.display())),
            "refused on the SBOM path, not on the missing repository: {err}"
        );
        assert_eq!(names(&out), Vec::<String>::new(), "nothing written");
    }
}

#[test]
fn source_date_epoch_past_9999_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = failing_config(tmp.path());
    let result = rapko(&tmp.path().join("cache"))
        .env("SOURCE_DATE_EPOCH", "253402300800")
        .arg("build")
        .arg(&config)
        .arg("hostile:1")
        .arg(tmp.path().join("img.tar"))
        .output()
        .expect("run rapko");
    let err = stderr(&result);
    assert!(!result.status.success());
    assert!(
        err.contains("SOURCE_DATE_EPOCH") && err.contains("9999-12-31T23:59:59Z"),
        "{err}"
    );
}

/// A repository whose index is signed by the trusted test key and lists a real package
/// signed by a key that is not in the keyring (melange's local key). Returns the config.
fn repo_with_untrusted_package(dir: &Path) -> PathBuf {
    let apk = rapko_test::fixture("wolfi/melange-local-signed/hello-wolfi-2.12.1-r1.apk");
    let bytes = std::fs::read(&apk).expect("fixture package");
    let parsed = rapko_apk::ApkPackage::parse(&bytes).expect("parses");
    let arch_dir = dir.join("repo/aarch64");
    std::fs::create_dir_all(&arch_dir).expect("mkdir");
    std::fs::write(arch_dir.join("hello-wolfi-2.12.1-r1.apk"), &bytes).expect("copy");
    let mut info = parsed.info.clone();
    // Its glibc dependencies are not in this repository; the files alone are enough here.
    info.depends.clear();
    info.file_size = bytes.len() as u64;
    info.checksum = Some(parsed.control_checksum);
    let index = rapko_apk::ApkIndex {
        packages: vec![info],
        ..rapko_apk::ApkIndex::default()
    };
    let key = std::fs::read(rapko_test::test_key_dir().join("rapko-test.rsa")).expect("key");
    let signer = rapko_apk::Signer::from_pem("rapko-test.rsa.pub", &key).expect("signer");
    let signed = index.write(Some(&signer)).expect("index");
    std::fs::write(arch_dir.join("APKINDEX.tar.gz"), signed).expect("write index");
    write_config(
        dir,
        "untrusted.yaml",
        &format!(
            "contents:\n  keyring: [{}]\n  repositories: [{}]\n  packages: [hello-wolfi]\narchs: [aarch64]\n",
            rapko_test::test_public_key_path().display(),
            dir.join("repo").display()
        ),
    )
}

#[test]
fn a_package_signed_by_an_unknown_key_warns_and_strict_signatures_refuses_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = repo_with_untrusted_package(tmp.path());
    let ok = build(tmp.path(), &config, &tmp.path().join("img.tar"), &[]);
    let err = stderr(&ok);
    assert!(ok.status.success(), "{err}");
    assert!(
        err.contains("hello-wolfi-2.12.1-r1: UNTRUSTED signature")
            && err.contains("--strict-signatures"),
        "the unknown key is reported: {err}"
    );
    let strict = tmp.path().join("strict.tar");
    let refused = build(tmp.path(), &config, &strict, &["--strict-signatures"]);
    let err = stderr(&refused);
    assert!(!refused.status.success());
    assert!(
        err.contains("hello-wolfi-2.12.1-r1") && err.contains("rapko-test.rsa.pub"),
        "refused naming the package and the keys: {err}"
    );
    assert!(!strict.exists());
}
