//! Small statistics over repeated runs.

/// The median of `values` (mean of the middle two for an even count);
/// `None` when empty or when any value is NaN.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// Median of per-pair ratios `a[i] / b[i]`: pairs run back to back see the
/// same machine load, so their ratio is steadier than a ratio of medians.
pub fn median_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    debug_assert_eq!(a.len(), b.len());
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, &b)| b > 0.0)
        .map(|(a, b)| a / b)
        .collect();
    median(&ratios)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median_ratio(&[2.0, 9.0, 4.0], &[1.0, 3.0, 1.0]), Some(3.0));
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }
}
