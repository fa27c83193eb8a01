//! One module per command. Each exposes a clap `Args`/`Subcommand` type and a `run` function
//! returning `anyhow::Result<()>`; `main` wires them up.

pub mod apk;

/// Prints an error as `error: …`, its cause chain, and a hint when one is attached.
pub fn print_error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = error.downcast_ref::<Hint>() {
        eprintln!("  hint: {}", hint.0);
    }
}

/// A hint for the user, attached to an error with `.context(Hint(..))`-style wrapping.
#[derive(Debug)]
pub struct Hint(pub String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
