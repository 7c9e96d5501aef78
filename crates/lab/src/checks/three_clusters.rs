//! Check 9: with three clusters, every ordered pair of clusters connects
//! pod to pod (ICMP and TCP, source preserved).

use super::{last, need, pods_connect};
use crate::{Lab, Result};

/// Every ordered pair (x, y), x != y, from the last pod of x to the last pod of y.
pub fn run(lab: &mut Lab) -> Result<String> {
    need(lab, 3, 1)?;
    let n = lab.plan.clusters.len();
    let mut pairs = 0;
    for x in 0..n {
        for y in (0..n).filter(|y| *y != x) {
            let (s, d) = (last(lab, x), last(lab, y));
            pods_connect(lab, &s, &d, x)?;
            pairs += 1;
        }
    }
    Ok(format!(
        "{n} clusters: all {pairs} ordered pairs connect (ICMP + TCP, source preserved)"
    ))
}
