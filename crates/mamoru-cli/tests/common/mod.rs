pub mod json_replay;
