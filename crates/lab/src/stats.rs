//! Summaries of repeated measurements (pure): median, quartiles and range,
//! the figures the lab's benchmarks report.

use serde::Serialize;
use std::fmt;

/// The distribution of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Smallest sample.
    pub min: f64,
    /// First quartile (linear interpolation between closest ranks).
    pub p25: f64,
    /// Median (mean of the two middle samples when `n` is even).
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarises `samples` (NaNs are dropped); `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Summary {
            n: v.len(),
            min: v[0],
            p25: quantile(&v, 0.25),
            median: quantile(&v, 0.5),
            p75: quantile(&v, 0.75),
            max: v[v.len() - 1],
        })
    }

    /// `max - min`.
    pub fn range(&self) -> f64 {
        self.max - self.min
    }

    /// `p75 - p25`: the spread of the middle half, which one disturbed
    /// sample cannot move much.
    pub fn iqr(&self) -> f64 {
        self.p75 - self.p25
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(2);
        write!(
            f,
            "median {:.p$} (middle half {:.p$}-{:.p$}, range {:.p$}-{:.p$}, n={})",
            self.median, self.p25, self.p75, self.min, self.max, self.n
        )
    }
}

/// The `q` quantile of sorted, non-empty `v`, interpolating linearly
/// between the closest ranks (`q * (n - 1)`), as numpy's default does.
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_count_takes_the_middle_sample() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.n, s.min, s.median, s.max), (3, 1.0, 3.0, 5.0));
        assert_eq!((s.p25, s.p75), (2.0, 4.0));
        assert_eq!(s.range(), 4.0);
    }

    #[test]
    fn even_count_averages_the_middle_pair() {
        let s = Summary::of(&[0.9, 1.0, 0.8, 0.95]).unwrap();
        assert!((s.median - 0.925).abs() < 1e-12, "{s:?}");
        // Ranks 0.75 and 2.25 of [0.8, 0.9, 0.95, 1.0].
        assert!((s.p25 - 0.875).abs() < 1e-12, "{s:?}");
        assert!((s.p75 - 0.9625).abs() < 1e-12, "{s:?}");
        assert!((s.iqr() - 0.0875).abs() < 1e-12);
    }

    #[test]
    fn one_outlier_moves_the_range_not_the_median() {
        let s = Summary::of(&[100.0, 110.0, 90.0, 105.0, 1080.0]).unwrap();
        assert_eq!(s.median, 105.0);
        assert_eq!(s.max, 1080.0);
        assert_eq!(s.p75, 110.0);
    }

    #[test]
    fn empty_and_nan_samples() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        let s = Summary::of(&[f64::NAN, 2.0]).unwrap();
        assert_eq!((s.n, s.median, s.p25), (1, 2.0, 2.0));
    }

    #[test]
    fn display_names_median_middle_half_and_range() {
        let s = Summary::of(&[0.9, 1.0, 0.8]).unwrap();
        assert_eq!(
            format!("{s:.2}"),
            "median 0.90 (middle half 0.85-0.95, range 0.80-1.00, n=3)"
        );
    }
}
