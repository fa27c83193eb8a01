//! `rapko login` and `rapko logout`: check registry credentials and store them where
//! `docker login` does (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, or the
//! configured credential helper), so rapko, docker, skopeo and crane share one login.

use std::io::Read;

use anyhow::{Context, bail};
use rapko_registry::{Credentials, DockerConfig, Options, blocking};

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// The registry, e.g. ghcr.io or localhost:5000 (default: Docker Hub)
    #[arg(default_value = rapko_registry::DOCKER_HUB)]
    pub registry: String,
    /// The user name
    #[arg(short, long)]
    pub username: Option<String>,
    /// The password or token (other users can see it in the process list; prefer
    /// --password-stdin)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password or token from standard input
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
}

#[derive(clap::Args, Debug)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub)
    #[arg(default_value = rapko_registry::DOCKER_HUB)]
    pub registry: String,
}

pub fn run_login(args: &LoginArgs) -> anyhow::Result<()> {
    let Some(username) = args.username.as_deref().filter(|u| !u.is_empty()) else {
        bail!("no user name given; pass -u/--username (and the password with --password-stdin)");
    };
    let password = password(args)?;
    let credentials = Credentials::new(username, password);
    let mut config = DockerConfig::load_default()?;
    let stored = blocking::login(
        &args.registry,
        &credentials,
        &mut config,
        &Options::default(),
    )
    .with_context(|| format!("cannot log in to {}", args.registry))?;
    eprintln!("Login Succeeded (credentials stored in {stored})");
    Ok(())
}

pub fn run_logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let mut config = DockerConfig::load_default()?;
    let removed = blocking::logout(&args.registry, &mut config)
        .with_context(|| format!("cannot log out of {}", args.registry))?;
    if removed {
        eprintln!("Removed login credentials for {}", args.registry);
    } else {
        eprintln!("Not logged in to {}", args.registry);
    }
    Ok(())
}

/// The password from `-p` (with docker's warning) or standard input (one line; the
/// trailing newline is not part of it).
fn password(args: &LoginArgs) -> anyhow::Result<String> {
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    } else if let Some(p) = &args.password {
        eprintln!(
            "warning: using --password on the command line is insecure; use --password-stdin"
        );
        p.clone()
    } else {
        bail!(
            "no password given; pipe it in with --password-stdin, e.g. `printf %s \"$TOKEN\" | rapko login -u USER --password-stdin {}`",
            args.registry
        );
    };
    if password.is_empty() {
        bail!("the password is empty; check what was passed to --password or --password-stdin");
    }
    Ok(password)
}
