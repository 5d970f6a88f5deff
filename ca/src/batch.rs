//! What every part's batches share: one answer slot per request, and a batch the store rolled back as a whole.

use crate::store::StoreError;

/// Put `value` in slot `i` (an index out of range is ignored: every caller indexes its own batch).
pub(crate) fn set<T>(results: &mut [Option<T>], i: usize, value: T) {
    if let Some(slot) = results.get_mut(i) {
        *slot = Some(value);
    }
}

/// The answers of a batch the store rolled back as a whole: every item gets the same cause, logged once; an
/// unavailable database stays "retry later".
pub(crate) fn batch_failed<T, E: From<StoreError>>(what: &str, e: &StoreError, items: usize) -> Vec<Result<T, E>> {
    tracing::error!(error = %e, items, "{what} failed as a batch");
    let each = || match e {
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
        other => StoreError::Database(other.to_string()),
    };
    (0..items).map(|_| Err(E::from(each()))).collect()
}
