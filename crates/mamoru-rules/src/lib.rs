//! Falco's rules language (under construction): `ast` is the condition tree, `loaded` what loading produces.
pub mod ast;
pub mod loaded;
