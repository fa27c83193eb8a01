//! Integration tests: packages and indexes made by rapko-test, read back by independent
//! tools (Python's `zlib` and `tarfile`, the openssl CLI, GNU tar) and compared with a real
//! Alpine package.

mod apk_tools;
mod check;
mod faults;
mod index;
mod package;
mod sets;
