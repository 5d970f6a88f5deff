//! Rotation with an overlap window: a rotated-out secret keeps working until a last moment so the other side
//! can switch without an outage, and never after. One rule for OIDC client secrets (issue #30) and routers'
//! pre-shared keys (issue #50, D156).

/// How long a rotated-out secret keeps working at most (the operator chooses less or none).
pub const MAX_OVERLAP_SECS: i64 = 30 * 86_400;
/// How long a rotated-out secret keeps working unless the operator says otherwise (a day: long enough to
/// change a configuration in office hours).
pub const DEFAULT_OVERLAP_SECS: i64 = 86_400;

/// Whether a secret that retires at `retires_at` (none: the current one) still works at `now`.
pub fn works_at(retires_at: Option<i64>, now: i64) -> bool {
    retires_at.is_none_or(|t| now < t)
}

/// When a secret working at `now` (retiring at `retires_at`, none while current) stops after a rotation at
/// `now` with `overlap_secs` (clamped to [`MAX_OVERLAP_SECS`]; 0 retires it at once): a rotation never
/// lengthens an overlap already running.
pub fn retired_by_rotation(retires_at: Option<i64>, now: i64, overlap_secs: i64) -> i64 {
    let until = now.saturating_add(overlap_secs.clamp(0, MAX_OVERLAP_SECS));
    retires_at.map_or(until, |t| t.min(until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlap_is_clamped_and_never_lengthened() {
        assert_eq!(retired_by_rotation(None, 100, 3600), 3700);
        assert_eq!(retired_by_rotation(Some(200), 100, 3600), 200, "never lengthened");
        assert_eq!(retired_by_rotation(None, 100, -5), 100, "no overlap");
        assert_eq!(retired_by_rotation(None, 0, i64::MAX), MAX_OVERLAP_SECS);
        assert!(works_at(None, i64::MAX) && works_at(Some(10), 9) && !works_at(Some(10), 10));
    }
}
