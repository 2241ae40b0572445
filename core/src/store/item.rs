//! A store-neutral item: attribute name -> typed value, the shape both
//! stores keep. DynamoDB maps it to `AttributeValue`s; the embedded store
//! keeps it as JSON in DynamoDB's own `{"S": ...}` style.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One attribute value. Only the types Rossignol writes or reads.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attr {
    S(String),
    N(String),
    #[serde(serialize_with = "ser_b64", deserialize_with = "de_b64")]
    B(Vec<u8>),
    #[serde(rename = "BOOL")]
    Bool(bool),
}

impl Attr {
    pub fn as_s(&self) -> Option<&str> {
        match self {
            Attr::S(s) => Some(s),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Attr::S(_) => "S",
            Attr::N(_) => "N",
            Attr::B(_) => "B",
            Attr::Bool(_) => "BOOL",
        }
    }
}

/// Values are never printed: an item may hold a legacy plaintext key.
impl fmt::Debug for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(..)", self.type_name())
    }
}

fn ser_b64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(bytes))
}

fn de_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    BASE64.decode(text.as_bytes()).map_err(serde::de::Error::custom)
}

/// One stored row.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Item(pub BTreeMap<String, Attr>);

impl Item {
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.0.get(name)
    }

    pub fn insert(&mut self, name: &str, value: Attr) {
        self.0.insert(name.to_owned(), value);
    }

    /// The partition key as stored, if present and a string.
    pub fn address(&self) -> Option<&str> {
        self.get(super::ADDRESS).and_then(Attr::as_s)
    }
}

/// Shows the address and attribute names only.
impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("address", &self.address())
            .field("attributes", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_dynamodb_style_tags() {
        let mut item = Item::default();
        item.insert("address", Attr::S("0xab".into()));
        item.insert("blob", Attr::B(vec![1, 2, 3]));
        item.insert("v", Attr::N("1".into()));
        let json = serde_json::to_string(&item).expect("serialises");
        assert_eq!(json, r#"{"address":{"S":"0xab"},"blob":{"B":"AQID"},"v":{"N":"1"}}"#);
        assert_eq!(serde_json::from_str::<Item>(&json).expect("parses"), item);
    }

    #[test]
    fn debug_hides_values() {
        let mut item = Item::default();
        item.insert("address", Attr::S("0xab".into()));
        item.insert("private_key", Attr::S("c2VjcmV0".into()));
        let shown = format!("{item:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("private_key"), "{shown}");
    }
}
