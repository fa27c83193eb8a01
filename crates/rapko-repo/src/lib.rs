//! Reads apk repositories over file and http(s): keyring, signed indexes, verified package fetch, content-addressed cache.
