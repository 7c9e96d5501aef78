//! The `routeagent` binary (being written).
fn main() {}
