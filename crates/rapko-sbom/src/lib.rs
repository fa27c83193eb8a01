//! SPDX 2.3 and CycloneDX 1.6 SBOMs for images built from APK packages, deterministic.
