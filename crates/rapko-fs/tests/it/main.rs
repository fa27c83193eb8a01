//! Integration tests of rapko-fs: synthetic packages from rapko-test installed under apk's
//! rules, the files and database they leave, what the scripts would have done, `paths` and
//! `accounts`, and a few checks against the real packages in ../shared/fixtures.

// Test helpers panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod accounts;
mod common;
mod database;
mod hostile;
mod install;
mod layer;
mod paths;
mod scripts;
