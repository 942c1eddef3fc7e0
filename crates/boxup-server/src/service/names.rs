//! Item-name rules (Box's common-errors guide). A name is data: it is
//! validated and stored, never used to build a path.

use boxup_protocol::ErrorKind;

use crate::error::{ApiError, ApiResult};

pub(super) const MAX_NAME_CHARS: usize = 255;

/// The rules below as an ECMA-262 pattern, for the OpenAPI document (with
/// `maxLength` 255): no `/`, `\` or control character, and no space at
/// either end. The one rule it leaves out is that `.` and `..` are refused.
pub const NAME_PATTERN: &str =
    r"^[^/\\\x00-\x1F\x7F-\x9F ](?:[^/\\\x00-\x1F\x7F-\x9F]*[^/\\\x00-\x1F\x7F-\x9F ])?$";

pub(super) fn validate_name(name: &str) -> ApiResult<()> {
    let invalid = |why: &str| {
        Err(ApiError::new(
            ErrorKind::ItemNameInvalid,
            format!("Item name invalid: {why}"),
        ))
    };
    if name.is_empty() {
        return invalid("a name must not be empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(
            ErrorKind::ItemNameTooLong,
            "Item name too long: at most 255 characters",
        ));
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are not allowed");
    }
    if name.contains(['/', '\\']) {
        return invalid("'/' and '\\' are not allowed");
    }
    if name.chars().any(char::is_control) {
        return invalid("non-printable characters are not allowed");
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return invalid("leading and trailing spaces are not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_agrees_with_the_rules() {
        let pattern = regex::Regex::new(NAME_PATTERN).unwrap();
        let (longest, too_long) = ("x".repeat(255), "x".repeat(256));
        let names = [
            "a",
            "report.pdf",
            "a b",
            "é",
            "日本語",
            &longest,
            "...",
            " a",
            "a ",
            " ",
            "",
            "a/b",
            "a\\b",
            "a\u{0}b",
            "a\tb",
            "a\u{7f}",
            "a\u{85}",
            "tab\n",
            "\u{9f}x",
            "mid dle",
            "-",
            "#[]{}?*",
            &too_long,
        ];
        for name in names {
            let within_length = name.chars().count() <= MAX_NAME_CHARS;
            assert_eq!(
                pattern.is_match(name) && within_length,
                validate_name(name).is_ok(),
                "{name:?}"
            );
        }
        // The one rule the pattern leaves to the server.
        assert!(pattern.is_match("..") && validate_name("..").is_err());
    }

    #[test]
    fn names() {
        assert!(validate_name("Project.mov").is_ok());
        assert!(validate_name("..x").is_ok());
        assert!(validate_name("日本語.txt").is_ok());
        assert_eq!(validate_name(&"é".repeat(255)).map(|_| ()).ok(), Some(()));
        assert_eq!(
            validate_name(&"a".repeat(256)).unwrap_err().kind,
            ErrorKind::ItemNameTooLong
        );
        for bad in ["", ".", "..", "a/b", "..\\x", "a\nb", "tab\t", "x ", " x"] {
            assert_eq!(
                validate_name(bad).unwrap_err().kind,
                ErrorKind::ItemNameInvalid,
                "{bad:?}"
            );
        }
    }
}
