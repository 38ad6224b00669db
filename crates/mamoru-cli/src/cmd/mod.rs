//! One module per subcommand.

pub mod bench;
pub mod bench_json;
pub mod bench_outputs;
pub mod capture;
pub mod db;
pub mod fields;
pub mod replay;
pub mod response;
pub mod rules;
pub mod run;
pub mod scan;
pub mod sign;
