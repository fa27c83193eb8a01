//! The in-memory root filesystem built from packages, and the deterministic layer writer.
