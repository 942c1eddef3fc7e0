//! Lenient JSON input: bodies are parsed whatever their Content-Type says
//! (legacy boxsdk posts JSON without one), and each field is read on its
//! own so that a missing field and a mistyped one get Box's distinct codes.

use boxup_protocol::ErrorKind;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::FolderId;

pub(super) type JsonObject = Map<String, Value>;

/// Parses a request body that must be a JSON object. An empty body is `{}`.
pub(super) fn json_object(body: &[u8]) -> ApiResult<JsonObject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonObject::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid_json("expected a JSON object")),
        Err(e) => Err(ApiError::invalid_json(e)),
    }
}

/// A field that is absent or `null` reads as `None`.
pub(super) fn field<'a>(obj: &'a JsonObject, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// A non-negative integer field; a number in a string is accepted too.
pub(super) fn size_field(obj: &JsonObject, name: &str) -> Result<Option<u64>, ()> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ()),
        Some(_) => Err(()),
    }
}

/// A string field.
pub(super) fn str_field<'a>(obj: &'a JsonObject, name: &str) -> ApiResult<Option<&'a str>> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            ErrorKind::BadRequest,
            format!("'{name}' must be a string"),
        )),
    }
}

/// A folder id given as a string of digits (or, leniently, a number).
pub(super) fn folder_id_value(v: &Value) -> Option<FolderId> {
    match v {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        Value::Number(n) => n.as_i64().filter(|n| *n >= 0).map(FolderId),
        _ => None,
    }
}

/// An RFC 3339 timestamp field, as Unix seconds.
pub(super) fn time_field(obj: &JsonObject, name: &str) -> ApiResult<Option<i64>> {
    str_field(obj, name)?
        .map(|s| parse_time(name, s))
        .transpose()
}

/// Parses an RFC 3339 timestamp named `name` into Unix seconds.
pub(super) fn parse_time(name: &str, value: &str) -> ApiResult<i64> {
    boxup_protocol::time::parse_unix(value).ok_or_else(|| {
        ApiError::new(
            ErrorKind::BadRequest,
            format!("'{name}' must be an RFC 3339 timestamp"),
        )
    })
}

/// The attributes a commit or upload may set.
pub(super) fn file_attributes(obj: &JsonObject) -> ApiResult<super::policy::FileAttributes> {
    Ok(super::policy::FileAttributes {
        description: str_field(obj, "description")?.map(str::to_owned),
        content_created_at: time_field(obj, "content_created_at")?,
        content_modified_at: time_field(obj, "content_modified_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_fields() {
        let o = json_object(br#"{"a": 5, "b": "6", "c": -1, "d": null, "e": "x"}"#).unwrap();
        assert_eq!(size_field(&o, "a"), Ok(Some(5)));
        assert_eq!(size_field(&o, "b"), Ok(Some(6)));
        assert_eq!(size_field(&o, "c"), Err(()));
        assert_eq!(size_field(&o, "d"), Ok(None));
        assert_eq!(size_field(&o, "e"), Err(()));
        assert_eq!(json_object(b"").unwrap().len(), 0);
        assert_eq!(
            json_object(b"[1]").unwrap_err().kind,
            ErrorKind::InvalidJson
        );
        assert_eq!(json_object(b"{").unwrap_err().kind, ErrorKind::InvalidJson);
        assert_eq!(folder_id_value(&Value::from("0")), Some(FolderId::ROOT));
        assert_eq!(folder_id_value(&Value::from("../1")), None);
    }
}
