//! What the command line's arguments share, below both the command list (`cli`) and the commands that declare
//! their own arguments (`cmd`): the options every command takes and the value parsers that turn an argument into
//! its domain type at the edge.

pub mod value;

mod global;

pub use global::Global;
