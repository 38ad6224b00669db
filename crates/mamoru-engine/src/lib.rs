//! mamoru-engine (under construction).
