//! Integration tests against a real Distribution registry (`docker-registry`) started per
//! test on 127.0.0.1, checked with skopeo. Tests skip (with a printed reason) when the
//! tools are missing, and fail instead when RAPKO_REQUIRE_TOOLS=1.

// A panic is how a test fails; unwrapping is the point here.
#![allow(clippy::unwrap_used)]

mod auth;
mod bearer;
mod faults;
mod push;
mod support;
