//! Integration tests of rapko-repo, in one binary: real fixtures served by python's
//! http.server and by a scriptable loopback server that fails on purpose, local
//! repositories, trust, and processes sharing one cache.

mod cache;
mod faults;
mod hostile;
mod local;
mod python_http;
mod support;
mod trust;
