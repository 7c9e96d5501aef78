//! Parsing never panics, whatever the input.

use proptest::prelude::*;
use topology::Topology;

const BASE: &str = include_str!("../../../examples/three-clusters-c.yaml");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings(s in "\\PC*") {
        let _ = Topology::from_yaml(&s);
    }

    #[test]
    fn yamlish_strings(s in "[a-zA-Z:\\-\\[\\]{}0-9./ \n]{0,200}") {
        let _ = Topology::from_yaml(&s);
    }

    /// A valid file with one byte range replaced by arbitrary text.
    #[test]
    fn mutated_example(at in 0usize..BASE.len(), len in 0usize..20, s in "\\PC{0,12}") {
        let start = (0..=at).rev().find(|i| BASE.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(BASE.len());
        let end = (end..=BASE.len()).find(|i| BASE.is_char_boundary(*i)).unwrap_or(BASE.len());
        let text = format!("{}{}{}", &BASE[..start], s, &BASE[end..]);
        if let Ok(t) = Topology::from_yaml(&text) {
            // anything accepted also round-trips
            prop_assert_eq!(Topology::from_yaml(&t.to_yaml().unwrap()).unwrap(), t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The incremental parser (fresh, and primed with the valid file)
    /// returns what the whole parse returns for any edit of the file.
    #[test]
    fn incremental_parse_equals_whole_parse(
        at in 0usize..BASE.len(),
        len in 0usize..30,
        s in "[a-z:\\-\\[\\]{}&*!#0-9./ \n]{0,16}",
    ) {
        let end = (at + len).min(BASE.len());
        let text = format!("{}{}{}", &BASE[..at], s, &BASE[end..]);
        let whole = Topology::from_yaml(&text).map_err(|e| e.to_string());
        let mut primed = topology::incremental::Parser::default();
        primed.parse(BASE).unwrap();
        for p in [&mut topology::incremental::Parser::default(), &mut primed] {
            let inc = p.parse(&text).map(|t| (*t).clone()).map_err(|e| e.to_string());
            prop_assert_eq!(&inc, &whole);
        }
    }
}
