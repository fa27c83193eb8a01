//! Alpine 3.19 main + community.
