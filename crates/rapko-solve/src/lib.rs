//! The resolver: a world and indexes to the ordered set of packages to install, with explanations.
