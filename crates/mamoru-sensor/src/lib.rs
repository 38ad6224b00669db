//! mamoru-sensor (under construction).
