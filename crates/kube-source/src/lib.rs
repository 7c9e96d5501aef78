//! kube-source (being written).
