//! Active expiry.
