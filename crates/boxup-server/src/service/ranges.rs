//! The `Range` request header of downloads (RFC 9110, one range only).

/// One `Range: bytes=…` spec: `(Some(a), Some(b))`, `(Some(a), None)` or
/// the suffix form `(None, Some(n))`. Multiple ranges are not supported.
pub(super) fn parse_byte_range(header: &str) -> Option<(Option<u64>, Option<u64>)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let num = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    match (num(a)?, num(b)?) {
        (None, None) => None,
        pair => Some(pair),
    }
}

/// Resolves a range spec to `[start, end)` within `total`, or `None` if
/// it is unsatisfiable.
pub(super) fn resolve_range(spec: (Option<u64>, Option<u64>), total: u64) -> Option<(u64, u64)> {
    let (start, end) = match spec {
        (Some(a), Some(b)) if a <= b => (a, b.saturating_add(1).min(total)),
        (Some(_), Some(_)) => return None,
        (Some(a), None) => (a, total),
        (None, Some(n)) if n > 0 => (total.saturating_sub(n), total),
        _ => return None,
    };
    (start < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |h: &str, t| parse_byte_range(h).and_then(|s| resolve_range(s, t));
        assert_eq!(r("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(r("bytes=90-200", 100), Some((90, 100)));
        assert_eq!(r("bytes=95-", 100), Some((95, 100)));
        assert_eq!(r("bytes=-10", 100), Some((90, 100)));
        assert_eq!(r("bytes=-200", 100), Some((0, 100)));
        assert_eq!(r("bytes=100-", 100), None);
        assert_eq!(r("bytes=5-4", 100), None);
        assert_eq!(parse_byte_range("bytes=0-1,5-6"), None);
        assert_eq!(parse_byte_range("items=0-1"), None);
    }
}
