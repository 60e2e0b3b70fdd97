//! Hashes. Placeholder representation; issue 3 brings the listpack encoding.

use crate::value::ByteStr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HashValue {
    fields: Vec<(ByteStr, ByteStr)>,
}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
    /// Sets `field` to `value`; true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(slot) = self.fields.iter_mut().find(|(f, _)| f.as_slice() == field) {
            slot.1 = ByteStr::from_slice(value);
            false
        } else {
            self.fields
                .push((ByteStr::from_slice(field), ByteStr::from_slice(value)));
            true
        }
    }
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(f, _)| f.as_slice() == field)
            .map(|(_, v)| v.as_slice())
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
    }
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
}
