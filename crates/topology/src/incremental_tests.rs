//! The incremental parser returns what a whole parse returns, for every
//! layout, and parses only the items whose text changed.

use super::{cut, Parser};
use crate::Topology;

const HEAD: &str = "# a comment\ncluster:\n  id: local\n  clusterCIDRs: [10.244.0.0/16]\n  nodes:\n    - {name: gw, ip: 10.1.0.1}\n  gateways:\n    - {hostname: gw, privateIP: 10.1.0.1}\n";

fn item(i: usize, indent: &str) -> String {
    format!(
        "{indent}- id: r{i}\n{indent}  subnets: [100.64.{i}.0/26, 100.64.{i}.64/26]\n{indent}  gateway: {{hostname: r{i}-gw, privateIP: 172.16.0.{}}}\n",
        i + 1
    )
}

fn file(n: usize, indent: &str, tail: &str) -> String {
    let items: String = (0..n).map(|i| item(i, indent)).collect();
    format!("{HEAD}remoteClusters:   # the peers\n\n{items}{tail}")
}

/// Both parses agree: same topology, or the same error text.
fn same(p: &mut Parser, text: &str) {
    let whole = Topology::from_yaml(text).map_err(|e| e.to_string());
    let inc = p
        .parse(text)
        .map(|t| (*t).clone())
        .map_err(|e| e.to_string());
    assert_eq!(inc, whole, "for:\n{text}");
}

#[test]
fn every_layout_parses_as_the_whole_file_does() {
    let layouts = [
        file(5, "  ", ""),
        file(5, "", ""),
        file(5, "    ", "tunables:\n  vxlanPort: 4801\n"),
        file(3, "  ", "# trailing comment\n"),
        file(3, "  ", "").replace('\n', "\r\n"),
        format!(
            "{}# between\n  # indented comment\n{}",
            file(2, "  ", ""),
            item(7, "  ")
        ),
        format!("tunables: {{mss: 1300}}\n{}", file(4, "  ", "")),
    ];
    for text in &layouts {
        assert!(cut(text).is_some(), "not cut:\n{text}");
        same(&mut Parser::default(), text);
    }
    for f in ["two-clusters-a", "two-clusters-b", "three-clusters-c"] {
        let path = format!("{}/../../examples/{f}.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(cut(&text).is_some(), "{f} not cut");
        same(&mut Parser::default(), &text);
    }
}

#[test]
fn an_edit_parses_only_the_items_it_touched() {
    let mut p = Parser::default();
    same(&mut p, &file(100, "  ", ""));
    assert_eq!(p.parsed, 100);
    same(&mut p, &file(101, "  ", ""));
    assert_eq!(p.parsed, 101, "one item added: one parsed");
    let changed = file(101, "  ", "").replace("100.64.7.64/26", "100.65.7.64/26");
    same(&mut p, &changed);
    assert_eq!(p.parsed, 102, "one item changed: one parsed");
    // The local part changes: the items are reused still.
    same(&mut p, &changed.replace("10.1.0.1}", "10.1.0.2}"));
    assert_eq!(p.parsed, 102);
    // Items move: reused, in the file's order.
    let moved = format!("{HEAD}remoteClusters:\n{}{}", item(1, "  "), item(0, "  "));
    let t = p.parse(&moved).unwrap();
    assert_eq!(t.remote_clusters[0].id, "r1");
    assert_eq!(p.parsed, 102);
}

#[test]
fn what_cannot_be_cut_or_parsed_alone_is_parsed_whole() {
    let anchor = HEAD.replace("hostname: gw,", "hostname: &h gw,");
    let cases = [
        // Alias to an anchor in another piece: valid, only whole.
        format!("{anchor}remoteClusters:\n  - id: r1\n    subnets: [100.64.0.0/26]\n    gateway: {{hostname: *h, privateIP: 172.16.0.1}}\n"),
        // Flow and null lists, duplicate key, document markers.
        format!("{HEAD}remoteClusters: [{{id: r1, subnets: [100.64.0.0/26], gateway: {{hostname: g, privateIP: 172.16.0.1}}}}]\n"),
        format!("{HEAD}remoteClusters:\ntunables: {{}}\n"),
        format!("{}remoteClusters: []\n", file(1, "  ", "")),
        format!("---\n{}", file(2, "  ", "")),
        // A flow list spanning lines less indented than the items.
        format!("{HEAD}remoteClusters:\n  - id: r1\n    subnets: [100.64.0.0/26,\n 100.64.1.0/26]\n    gateway: {{hostname: g, privateIP: 172.16.0.1}}\n"),
        // Errors: syntax in an item, an unknown field, a rule broken.
        file(3, "  ", "").replace("id: r1\n", "id: r1\n     bad: [\n"),
        file(3, "  ", "").replace("id: r2", "id: r2\n    colour: blue"),
        file(3, "  ", "").replace("id: r2", "id: r1"),
        file(2, "  ", "").replace("100.64.1.0/26", "100.64.1.0/33"),
    ];
    let mut p = Parser::default();
    for text in &cases {
        same(&mut Parser::default(), text);
        same(&mut p, text);
        // And the parser still works after each.
        same(&mut p, &file(4, "  ", ""));
    }
    let e = Parser::default().parse(&cases[6]).unwrap_err().to_string();
    assert!(e.contains("line "), "the whole file's position: {e}");
}
