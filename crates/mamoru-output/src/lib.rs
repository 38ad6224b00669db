//! mamoru-output (under construction).
