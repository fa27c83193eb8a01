//! The apko YAML image configuration: types, includes, defaults, validation.
