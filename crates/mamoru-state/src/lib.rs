//! mamoru-state (under construction).
