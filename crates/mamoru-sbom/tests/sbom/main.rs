//! The mamoru-sbom integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

mod end_to_end;
mod sbom_schema;
