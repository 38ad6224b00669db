//! mamoru-records (under construction).
