use bytes::Bytes;

/// A JSON document serialized once and served many times (discovery, JWKS), with its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The serialized JSON.
    pub body: Bytes,
    /// A strong entity tag for the body, quoted as it goes on the wire.
    pub etag: String,
}

impl Document {
    /// Serializes `value` and tags it with a digest of the bytes.
    pub fn json(value: &serde_json::Value) -> Self {
        let body = Bytes::from(value.to_string());
        let digest = ring::digest::digest(&ring::digest::SHA256, &body);
        let etag = digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Self {
            body,
            etag: format!("\"{etag}\""),
        }
    }
}
