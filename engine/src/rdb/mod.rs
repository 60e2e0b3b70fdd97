//! The RDB file format (issue 4).
