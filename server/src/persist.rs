//! Where executed writes go after the keyspace: the AOF (issue 5) and the
//! save-rule change counter (issue 4). For now only the counter exists.

use ringkv_engine::exec::Propagation;

use crate::shared::Shared;

/// Hands the propagated form of a finished command to persistence.
pub fn after_write(_shared: &Shared, prop: &mut Propagation) {
    prop.clear();
}
