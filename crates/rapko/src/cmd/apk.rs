//! `rapko apk …`: inspect, compare, index and verify packages without building anything.
//!
//! Each subcommand is a thin layer over `rapko-apk`: read the files, call the library, print
//! the result to stdout (text, or JSON with `--json` where a script would read it). Errors
//! carry the file name as anyhow context; a failed check is exit status 1.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use rapko_apk::{
    ApkIndex, ApkPackage, DataEntry, EntryKind, Keyring, PackageInfo, SignatureError, Signer, Trust,
};
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum ApkCommand {
    /// Compare two versions: prints <, = or >
    Vercmp { a: String, b: String },
    /// Show a package's metadata, checksums, signature status and files
    Inspect(InspectArgs),
    /// Build an APKINDEX.tar.gz from packages (like `apk index` + `abuild-sign`)
    Index(IndexArgs),
    /// Check the signature of an APKINDEX.tar.gz (exit 1 when it does not verify)
    VerifyIndex(VerifyIndexArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    /// The .apk file
    file: PathBuf,
    /// Directory of trusted public keys (*.rsa.pub) to check the signature with
    #[arg(long)]
    keyring: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct IndexArgs {
    /// Where to write the index, e.g. repo/x86_64/APKINDEX.tar.gz
    #[arg(long, short)]
    output: PathBuf,
    /// Private key (PEM) to sign the index with; the signature names `<file name>.pub`
    #[arg(long)]
    sign: Option<PathBuf>,
    /// The index's DESCRIPTION, e.g. a repository version
    #[arg(long)]
    description: Option<String>,
    /// List `noarch` packages under this arch, as Alpine's indexes do
    #[arg(long)]
    rewrite_arch: Option<String>,
    /// The .apk files
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct VerifyIndexArgs {
    /// The APKINDEX.tar.gz
    file: PathBuf,
    /// Directory of trusted public keys (*.rsa.pub)
    #[arg(long)]
    keyring: PathBuf,
}

pub fn run(command: &ApkCommand) -> Result<()> {
    match command {
        ApkCommand::Vercmp { a, b } => vercmp(a, b),
        ApkCommand::Inspect(args) => inspect(args),
        ApkCommand::Index(args) => index(args),
        ApkCommand::VerifyIndex(args) => verify_index(args),
    }
}

/// Like `apk version -t`: invalid versions still compare (apk-tools compares up to the first
/// token it cannot read, then by what is left), so a script gets an answer either way; a note
/// on stderr says which side was not a valid version.
fn vercmp(a: &str, b: &str) -> Result<()> {
    for v in [a, b] {
        if let Err(e) = rapko_apk::version::validate(v) {
            eprintln!("note: {e}; compared the way apk-tools compares invalid versions");
        }
    }
    let sign = match rapko_apk::version::compare(a, b) {
        std::cmp::Ordering::Less => "<",
        std::cmp::Ordering::Equal => "=",
        std::cmp::Ordering::Greater => ">",
    };
    println!("{sign}");
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn load_keyring(dir: &Path) -> Result<Keyring> {
    let mut keyring = Keyring::new();
    keyring
        .add_dir(dir)
        .with_context(|| format!("cannot load keys from {}", dir.display()))?;
    if keyring.is_empty() {
        bail!("no keys in {}", dir.display());
    }
    Ok(keyring)
}

// ---------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------

/// Everything `inspect` found out, before it is printed.
struct Report {
    file: PathBuf,
    size: usize,
    package: ApkPackage,
    /// Hex SHA-256 of the data member as found (declared one is in the package info).
    datahash_ok: Option<bool>,
    signature: SignatureStatus,
    /// The data entries (contents dropped) with their sizes, or why they could not be read.
    files: Result<Vec<(DataEntry, usize)>, String>,
}

enum SignatureStatus {
    Unsigned,
    Unchecked,
    Verified(String),
    Failed(String),
}

impl SignatureStatus {
    fn label(&self) -> &'static str {
        match self {
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::Unchecked => "not checked",
            SignatureStatus::Verified(_) => "verified",
            SignatureStatus::Failed(_) => "failed",
        }
    }
}

fn inspect(args: &InspectArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let package =
        ApkPackage::parse(&bytes).with_context(|| format!("cannot read package {name}"))?;
    let keyring = args.keyring.as_deref().map(load_keyring).transpose()?;
    let signature = match (&package.signature, &keyring) {
        (None, _) => SignatureStatus::Unsigned,
        (Some(_), None) => SignatureStatus::Unchecked,
        (Some(_), Some(keyring)) => match package.verify_signature(&bytes, keyring) {
            Ok(key) => SignatureStatus::Verified(key.to_owned()),
            Err(e) => SignatureStatus::Failed(e.to_string()),
        },
    };
    let datahash_ok = package
        .info
        .datahash
        .map(|_| package.verify_datahash(&bytes, true).is_ok());
    let mut entries = Vec::new();
    let files = package
        .data_entries(&bytes, |mut entry| {
            // Only the listing is printed: keep sizes, not contents.
            let size = std::mem::take(&mut entry.content).len();
            entries.push((entry, size));
            Ok(())
        })
        .map(|()| entries)
        .map_err(|e| e.to_string());
    let report = Report {
        file: args.file.clone(),
        size: bytes.len(),
        package,
        datahash_ok,
        signature,
        files,
    };
    if args.json {
        let text =
            serde_json::to_string_pretty(&report_json(&report)).context("cannot print JSON")?;
        println!("{text}");
    } else {
        print!("{}", report_text(&report));
    }
    report_failures(&report, &name)
}

/// Exit status 1 when a check failed: the report above says which.
fn report_failures(report: &Report, name: &str) -> Result<()> {
    let mut failed = Vec::new();
    if report.datahash_ok == Some(false) {
        failed.push("datahash".to_owned());
    }
    if let SignatureStatus::Failed(why) = &report.signature {
        failed.push(format!("signature ({why})"));
    }
    if let Err(why) = &report.files {
        failed.push(format!("data ({why})"));
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow!("failed checks: {}", failed.join(", ")))
        .context(format!("package {name} did not check out"))
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn report_text(report: &Report) -> String {
    let info = &report.package.info;
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "{key:<15} {value}");
        }
    };
    line(
        "file",
        &format!("{} ({} bytes)", report.file.display(), report.size),
    );
    metadata_lines(info, &mut line);
    line(
        "checksum",
        &format!(
            "{} (control member; an index's C:)",
            report.package.control_checksum.to_q1()
        ),
    );
    let datahash = match (info.datahash, report.datahash_ok) {
        (Some(h), Some(true)) => format!("{} ok", hex_string(&h)),
        (Some(h), _) => format!("{} MISMATCH: the data member was changed", hex_string(&h)),
        (None, _) => "none (old package)".to_owned(),
    };
    line("datahash", &datahash);
    line("signature", &signature_text(report));
    let p = &report.package;
    line(
        "members",
        &format!(
            "signature {} bytes, control {} bytes, data {} bytes",
            p.control.start,
            p.control.len(),
            p.data.len()
        ),
    );
    let scripts: Vec<String> = p
        .scripts
        .iter()
        .map(|s| format!("{} ({} bytes)", s.name, s.content.len()))
        .collect();
    line("scripts", &scripts.join(", "));
    match &report.files {
        Ok(entries) => {
            let _ = writeln!(out, "files ({}):", entries.len());
            for (entry, size) in entries {
                let _ = writeln!(out, "  {}", entry_line(entry, *size));
            }
        }
        Err(why) => {
            let _ = writeln!(out, "files: cannot be listed: {why}");
        }
    }
    out
}

fn metadata_lines(info: &PackageInfo, line: &mut impl FnMut(&str, &str)) {
    line("name", &info.name);
    line("version", &info.version);
    line("arch", &info.arch);
    line("description", &info.description);
    line("url", &info.url);
    line("license", &info.license);
    line("origin", info.origin.as_deref().unwrap_or_default());
    line("maintainer", info.maintainer.as_deref().unwrap_or_default());
    line(
        "build date",
        &info.build_time.map(|t| t.to_string()).unwrap_or_default(),
    );
    line("commit", info.commit.as_deref().unwrap_or_default());
    line("installed size", &info.installed_size.to_string());
    line("depends", &join(&info.depends));
    line("provides", &join(&info.provides));
    line("install_if", &join(&info.install_if));
    line("replaces", &join(&info.replaces));
    line("triggers", &info.triggers.join(" "));
    line(
        "provider prio",
        &info
            .provider_priority
            .map(|p| p.to_string())
            .unwrap_or_default(),
    );
    line(
        "replaces prio",
        &info
            .replaces_priority
            .map(|p| p.to_string())
            .unwrap_or_default(),
    );
}

fn signature_text(report: &Report) -> String {
    let algorithm = report.package.signature.as_ref().map(|s| {
        let alg = match s.algorithm {
            rapko_apk::SignatureAlgorithm::RsaSha1 => "RSA/SHA-1",
            rapko_apk::SignatureAlgorithm::RsaSha256 => "RSA/SHA-256",
        };
        format!("{alg} by {}", s.key_name)
    });
    let algorithm = algorithm.unwrap_or_default();
    match &report.signature {
        SignatureStatus::Unsigned => "unsigned".to_owned(),
        SignatureStatus::Unchecked => format!("{algorithm}: not checked (give --keyring DIR)"),
        SignatureStatus::Verified(key) => format!("{algorithm}: verified with {key}"),
        SignatureStatus::Failed(why) => format!("{algorithm}: FAILED: {why}"),
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `-rwxr-xr-x 0:0 649832 lib/ld-musl-x86_64.so.1`, like `tar tv`.
fn entry_line(entry: &DataEntry, size: usize) -> String {
    let kind = match &entry.kind {
        EntryKind::File => '-',
        EntryKind::Directory => 'd',
        EntryKind::Symlink(_) => 'l',
        EntryKind::Hardlink(_) => 'h',
        EntryKind::CharDevice { .. } => 'c',
        EntryKind::BlockDevice { .. } => 'b',
        EntryKind::Fifo => 'p',
    };
    let target = match &entry.kind {
        EntryKind::Symlink(t) => format!(" -> {t}"),
        EntryKind::Hardlink(t) => format!(" link to {t}"),
        _ => String::new(),
    };
    format!(
        "{kind}{} {}:{} {size:>9} {}{target}",
        mode_string(entry.mode),
        entry.uid,
        entry.gid,
        entry.path
    )
}

fn mode_string(mode: u32) -> String {
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    let mut s: Vec<char> = bits
        .iter()
        .map(|(bit, c)| if mode & bit != 0 { *c } else { '-' })
        .collect();
    let special = [
        (0o4000, 2, 's', 'S'),
        (0o2000, 5, 's', 'S'),
        (0o1000, 8, 't', 'T'),
    ];
    for (bit, at, with_x, without_x) in special {
        if mode & bit != 0 {
            s[at] = if s[at] == 'x' { with_x } else { without_x };
        }
    }
    s.into_iter().collect()
}

fn report_json(report: &Report) -> Value {
    let info = &report.package.info;
    let p = &report.package;
    let strings =
        |v: &[rapko_apk::Dependency]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    let files = match &report.files {
        Ok(entries) => Value::Array(
            entries
                .iter()
                .map(|(e, size)| entry_json(e, *size))
                .collect(),
        ),
        Err(_) => Value::Null,
    };
    json!({
        "file": report.file.display().to_string(),
        "size": report.size,
        "name": info.name,
        "version": info.version,
        "arch": info.arch,
        "description": info.description,
        "url": info.url,
        "license": info.license,
        "origin": info.origin,
        "maintainer": info.maintainer,
        "build_time": info.build_time,
        "commit": info.commit,
        "installed_size": info.installed_size,
        "depends": strings(&info.depends),
        "provides": info.provides.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "install_if": strings(&info.install_if),
        "replaces": strings(&info.replaces),
        "triggers": info.triggers,
        "provider_priority": info.provider_priority,
        "replaces_priority": info.replaces_priority,
        "checksum": p.control_checksum.to_q1(),
        "datahash": {
            "declared": info.datahash.map(|h| hex_string(&h)),
            "ok": report.datahash_ok,
        },
        "signature": {
            "status": report.signature.label(),
            "algorithm": p.signature.as_ref().map(|s| match s.algorithm {
                rapko_apk::SignatureAlgorithm::RsaSha1 => "RSA-SHA1",
                rapko_apk::SignatureAlgorithm::RsaSha256 => "RSA-SHA256",
            }),
            "key": p.signature.as_ref().map(|s| s.key_name.clone()),
            "verified_by": match &report.signature {
                SignatureStatus::Verified(k) => Some(k.clone()),
                _ => None,
            },
            "error": match &report.signature {
                SignatureStatus::Failed(why) => Some(why.clone()),
                _ => None,
            },
        },
        "members": {
            "signature": p.control.start,
            "control": p.control.len(),
            "data": p.data.len(),
        },
        "scripts": p.scripts.iter().map(|s| json!({"name": s.name, "size": s.content.len()})).collect::<Vec<_>>(),
        "files": files,
        "files_error": report.files.as_ref().err(),
    })
}

fn entry_json(entry: &DataEntry, size: usize) -> Value {
    let (kind, target) = match &entry.kind {
        EntryKind::File => ("file", None),
        EntryKind::Directory => ("directory", None),
        EntryKind::Symlink(t) => ("symlink", Some(t.clone())),
        EntryKind::Hardlink(t) => ("hardlink", Some(t.clone())),
        EntryKind::CharDevice { .. } => ("char-device", None),
        EntryKind::BlockDevice { .. } => ("block-device", None),
        EntryKind::Fifo => ("fifo", None),
    };
    json!({
        "path": entry.path,
        "kind": kind,
        "target": target,
        "mode": format!("{:04o}", entry.mode),
        "uid": entry.uid,
        "gid": entry.gid,
        "size": size,
        "sha1": entry.sha1.map(|s| hex_string(&s)),
    })
}

// ---------------------------------------------------------------------------------------
// index and verify-index
// ---------------------------------------------------------------------------------------

fn index(args: &IndexArgs) -> Result<()> {
    let output = args.output.display().to_string();
    let signer = args
        .sign
        .as_deref()
        .map(|path| {
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Signer::from_pem(&file_name, &read_file(path)?)
                .with_context(|| format!("cannot use {} as a signing key", path.display()))
        })
        .transpose()?;
    let mut packages = Vec::new();
    for path in &args.files {
        packages.push(index_record(path, args.rewrite_arch.as_deref())?);
    }
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    if let Some(pair) = packages
        .windows(2)
        .find(|w| w[0].name == w[1].name && w[0].version == w[1].version)
    {
        bail!("{} is given twice", pair[0].name_version());
    }
    let index = ApkIndex {
        description: args.description.clone(),
        packages,
        signatures: Vec::new(),
    };
    let bytes = index
        .write(signer.as_ref())
        .with_context(|| format!("cannot write the index {output}"))?;
    write_atomically(&args.output, &bytes).with_context(|| format!("cannot write {output}"))?;
    let signed = signer.map_or("unsigned".to_owned(), |s| {
        format!("signed with {}", s.key_name)
    });
    println!("{output}: {} packages, {signed}", index.packages.len());
    Ok(())
}

/// The index record of one package file: its `.PKGINFO`, control checksum and size.
fn index_record(path: &Path, rewrite_arch: Option<&str>) -> Result<PackageInfo> {
    let bytes = read_file(path)?;
    let package = ApkPackage::parse(&bytes)
        .with_context(|| format!("cannot read package {}", path.display()))?;
    let mut info = package.info;
    info.checksum = Some(package.control_checksum);
    info.file_size = bytes.len() as u64;
    info.datahash = None;
    if let Some(arch) = rewrite_arch.filter(|_| info.arch == "noarch") {
        arch.clone_into(&mut info.arch);
    }
    Ok(info)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so readers
/// never see half an index.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).context("cannot create a temporary file")?;
    std::io::Write::write_all(&mut temp, bytes).context("cannot write the temporary file")?;
    temp.persist(path)
        .map_err(|e| e.error)
        .context("cannot rename the temporary file")?;
    Ok(())
}

fn verify_index(args: &VerifyIndexArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let keyring = load_keyring(&args.keyring)?;
    let bytes = read_file(&args.file)?;
    let (index, by) = ApkIndex::read(&bytes, Trust::Keyring(&keyring)).map_err(|e| {
        let hint = match &e {
            rapko_apk::Error::Signature(SignatureError::UnknownKey { .. }) => {
                "; add the signer's public key to the keyring directory"
            }
            _ => "",
        };
        anyhow!("{e}{hint}").context(format!("cannot verify {name}"))
    })?;
    println!(
        "{name}: verified with {} ({} packages)",
        by.unwrap_or_default(),
        index.packages.len()
    );
    Ok(())
}
