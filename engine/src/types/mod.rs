//! Collection types. Each one hides its encoding (compact listpack/intset
//! form for small collections, a hash table or skiplist-like structure for
//! large ones) behind the same API, and reports Redis's encoding name.
//!
//! The RDB codec and the commands only use the public methods here, never
//! the internal representation.

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use set::SetValue;
pub use zset::ZSetValue;
