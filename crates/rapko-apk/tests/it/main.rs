//! Integration tests of the APK format library against the real signed packages and indexes
//! in the shared fixtures, rapko-test's synthetic packages, apk-tools itself (when its
//! fixture package can run here), and hostile input.

mod apk_tools;
mod bad_input;
mod common;
mod fixtures;
mod fuzz;
mod hostile;
mod installed;
mod synthetic;
mod trust;
