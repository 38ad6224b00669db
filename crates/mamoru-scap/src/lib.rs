//! mamoru-scap (under construction).
