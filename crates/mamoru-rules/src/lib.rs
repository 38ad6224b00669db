//! Falco's rules language (under construction): see `ast` for the condition tree.
pub mod ast;
