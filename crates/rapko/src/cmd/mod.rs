//! One module per command. Each exposes a clap `Args`/`Subcommand` type and a `run` function
//! returning `anyhow::Result<()>`; `main` wires them up.

pub mod apk;
pub mod build;
pub mod cache;
pub mod common;
pub mod interrupt;
pub mod login;
pub mod progress;
pub mod publish;
pub mod sbom;
pub mod show;
pub mod workdir;

/// Prints an error as `error: …`, its cause chain, and a hint when one is attached.
pub fn print_error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    // Error types that both show their source in their message and return it from
    // `source()` would print each cause twice; skip a cause the line before already says.
    let mut previous = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !previous.contains(&text) {
            eprintln!("  caused by: {text}");
        }
        previous = text;
    }
    let hint = error.chain().find_map(|e| {
        e.downcast_ref::<rapko_build::BuildError>()
            .and_then(|b| b.hint())
    });
    if let Some(hint) = hint {
        eprintln!("  hint: {hint}");
    }
}
