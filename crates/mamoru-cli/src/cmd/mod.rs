//! One module per subcommand.

pub mod bench;
pub mod capture;
pub mod fields;
pub mod replay;
pub mod rules;
pub mod run;
