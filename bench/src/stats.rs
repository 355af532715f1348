//! Percentiles and medians of samples (milliseconds, kilobytes, ratios).

/// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest sample with at
/// least `p` % of all samples at or below it, so p99 of 1,000 samples is the 990th smallest.
/// `None` without samples or for a `p` out of range.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let sorted = sorted(samples);
    // p * n first: 99 * 1000 / 100 is exactly 990, 0.99 * 1000 is not.
    let rank = (p * sorted.len() as f64 / 100.0).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// The middle sample, or the mean of the two middle ones; `None` without samples.
pub fn median(samples: &[f64]) -> Option<f64> {
    let sorted = sorted(samples);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 0 => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
        _ => Some(sorted[middle]),
    }
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to(n: u32) -> Vec<f64> {
        // Shuffled on purpose: the functions must sort.
        let mut samples: Vec<f64> = (1..=n).map(f64::from).collect();
        samples.reverse();
        samples.swap(0, (n / 2) as usize);
        samples
    }

    #[test]
    fn percentiles_are_nearest_rank_samples() {
        let samples = one_to(1000);
        assert_eq!(percentile(&samples, 50.0), Some(500.0));
        assert_eq!(percentile(&samples, 99.0), Some(990.0));
        assert_eq!(percentile(&samples, 99.9), Some(999.0));
        assert_eq!(percentile(&samples, 100.0), Some(1000.0));
        assert_eq!(percentile(&one_to(10), 1.0), Some(1.0));
        assert_eq!(percentile(&[7.5], 99.0), Some(7.5));
    }

    #[test]
    fn no_percentile_without_samples_or_outside_the_range() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], 0.0), None);
        assert_eq!(percentile(&[1.0], 101.0), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[]), None);
    }
}
