//! The `rapko` command line.
fn main() {}
