//! Rust names from spec names: `userPrincipalName` → `user_principal_name`,
//! `getCustomerUsers` → `GetCustomerUsers`, `not_equals` → `NotEquals`.

/// Splits a spec name into lowercase words at case changes, digits after
/// letters, and any character that is not alphanumeric.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if p.is_alphanumeric() => {
                (c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()))
                    || (c.is_uppercase()
                        && p.is_uppercase()
                        && next.is_some_and(|n| n.is_lowercase()))
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `snake_case`, or `None` when nothing alphanumeric is left.
pub(crate) fn snake(name: &str) -> Option<String> {
    let words = words(name);
    (!words.is_empty()).then(|| words.join("_"))
}

/// `PascalCase`, or `None` when nothing alphanumeric is left.
pub(crate) fn pascal(name: &str) -> Option<String> {
    let words = words(name);
    if words.is_empty() {
        return None;
    }
    let mut out = String::new();
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    Some(out)
}

/// Whether `name` can be a Rust identifier (ASCII only, so that generated
/// names are easy to type), after raw-identifier escaping of keywords.
pub(crate) fn is_valid_ident(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Rust keywords that need `r#` (or, for the few that cannot be raw, a
/// trailing underscore) as field or method names.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// The identifier tokens for a snake_case field or method name, escaping
/// keywords: `type` → `r#type`, `self` → `self_`.
pub(crate) fn field_ident(name: &str) -> proc_macro2::Ident {
    if NOT_RAW.contains(&name) {
        proc_macro2::Ident::new(&format!("{name}_"), proc_macro2::Span::call_site())
    } else if KEYWORDS.contains(&name) {
        proc_macro2::Ident::new_raw(name, proc_macro2::Span::call_site())
    } else {
        proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
    }
}

/// The identifier tokens for a PascalCase type or variant name.
pub(crate) fn type_ident(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
}

/// Names `types.rs` refers to plainly (the prelude's, and its imports); a
/// model may not take them.
pub(crate) const RESERVED_TYPE_NAMES: &[&str] = &[
    "Self",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Secret",
    "Timestamp",
    "Serialize",
    "Deserialize",
    "BTreeMap",
];

/// `name`, or `name` + `Model` when it would hide a name `types.rs` uses
/// plainly (`Option` → `OptionModel`).
pub(crate) fn avoid_reserved(name: &str) -> String {
    if RESERVED_TYPE_NAMES.contains(&name) {
        format!("{name}Model")
    } else {
        name.to_owned()
    }
}

/// The candidate closest to `word` by edit distance, if it is close (a
/// typo): at most two edits, and fewer than half the word.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let distance = |a: &str, b: &str| -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut current = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != cb);
                current.push(
                    (previous[j] + cost)
                        .min(previous[j + 1] + 1)
                        .min(current[j] + 1),
                );
            }
            previous = current;
        }
        previous[b.len()]
    };
    candidates
        .iter()
        .map(|c| {
            (
                distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, _)| *d <= 2 && *d * 2 < word.len().max(1))
        .min()
        .map(|(_, c)| c)
}

/// Spec text made safe for a doc comment: control and bidirectional
/// formatting characters removed (rustc rejects the latter), no indented
/// code blocks, and every fenced block marked `text`, so that nothing in a
/// description becomes a doctest.
pub(crate) fn sanitize_doc(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|&c| {
            c == '\n' || c == '\t' || !(c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        })
        .collect();
    // Tabs become spaces (clippy's `tabs_in_doc_comments`).
    let cleaned = cleaned.replace('\t', "    ");
    let mut out = Vec::new();
    let mut in_fence = false;
    // The width of the list marker of the item the previous lines belong
    // to: a line that continues the item is indented by it, since Markdown
    // reads an unindented line there as a "lazy" continuation (rustdoc's
    // and clippy's `doc_lazy_continuation`), and every line is trimmed.
    let mut list_item: Option<usize> = None;
    let mut in_quote = false;
    for line in cleaned.lines() {
        let line = line.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            out.push(if in_fence {
                "```".to_owned()
            } else {
                "```text".to_owned()
            });
            in_fence = !in_fence;
            list_item = None;
            in_quote = false;
        } else if in_fence || line.is_empty() {
            out.push(line.to_owned());
            if line.is_empty() {
                list_item = None;
                in_quote = false;
            }
        } else if line.starts_with('>') {
            // A block quote: its lazy continuation lines get the marker too.
            out.push(line.to_owned());
            in_quote = true;
            list_item = None;
        } else if in_quote {
            out.push(format!("> {line}"));
        } else if let Some(width) = list_marker_width(line) {
            out.push(line.to_owned());
            list_item = Some(width);
        } else if let Some(width) = list_item {
            out.push(format!("{}{line}", " ".repeat(width)));
        } else {
            out.push(line.to_owned());
        }
    }
    if in_fence {
        out.push("```".to_owned());
    }
    out.join("\n").trim().to_owned()
}

/// The width of a Markdown list item's marker and the space after it
/// (`- `, `* `, `+ `, `1. `, `12) `), if `line` starts a list item.
fn list_marker_width(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    if matches!(bytes.first(), Some(b'-' | b'*' | b'+')) && bytes.get(1) == Some(&b' ') {
        return Some(2);
    }
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if (1..=9).contains(&digits)
        && matches!(bytes.get(digits), Some(b'.' | b')'))
        && bytes.get(digits + 1) == Some(&b' ')
    {
        return Some(digits + 2);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, snake_expected: &str, pascal_expected: &str) {
        assert_eq!(
            snake(input).as_deref(),
            Some(snake_expected),
            "snake({input:?})"
        );
        assert_eq!(
            pascal(input).as_deref(),
            Some(pascal_expected),
            "pascal({input:?})"
        );
    }

    #[test]
    fn camel_case() {
        check(
            "userPrincipalName",
            "user_principal_name",
            "UserPrincipalName",
        );
    }

    #[test]
    fn header_name() {
        check("MS-CorrelationId", "ms_correlation_id", "MsCorrelationId");
    }

    #[test]
    fn acronym_then_word() {
        check("HTTPServer", "http_server", "HttpServer");
    }

    #[test]
    fn snake_value() {
        check("not_equals", "not_equals", "NotEquals");
    }

    #[test]
    fn digits() {
        check("int32Value", "int32_value", "Int32Value");
    }

    #[test]
    fn nothing_alphanumeric() {
        assert_eq!(snake("--"), None);
        assert_eq!(pascal(""), None);
    }

    #[test]
    fn list_items_keep_their_continuation_lines() {
        assert_eq!(
            sanitize_doc(
                "Cases:\n\n* When added, the action is\n`added`.\n  - nested\nmore\n\nAfter."
            ),
            "Cases:\n\n* When added, the action is\n  `added`.\n- nested\n  more\n\nAfter."
        );
        assert_eq!(
            sanitize_doc("1. one\ntwo\n10) ten\neleven"),
            "1. one\n   two\n10) ten\n    eleven"
        );
        assert_eq!(sanitize_doc("ext:\tExtensions"), "ext:    Extensions");
        // A block quote's lazy lines are quoted.
        assert_eq!(
            sanitize_doc("> Scoped OAuth:\nScoped OAuth requires: `a.read`\n\nAfter."),
            "> Scoped OAuth:\n> Scoped OAuth requires: `a.read`\n\nAfter."
        );
        // Not list items: emphasis, a number in text, a rule.
        assert_eq!(sanitize_doc("*bold*\nnext"), "*bold*\nnext");
        assert_eq!(
            sanitize_doc("2020. A year\nnext"),
            "2020. A year\n      next"
        );
        assert_eq!(sanitize_doc("---\nnext"), "---\nnext");
    }

    #[test]
    fn docs_never_become_doctests() {
        assert_eq!(
            sanitize_doc("a\n    let x: u8 = 300;\nb"),
            "a\nlet x: u8 = 300;\nb"
        );
        assert_eq!(
            sanitize_doc("```rust\npanic!()\n```"),
            "```text\npanic!()\n```"
        );
        assert_eq!(sanitize_doc("~~~\nopen"), "```text\nopen\n```");
        assert_eq!(sanitize_doc("evil\u{202e}txt\u{0}"), "eviltxt");
    }

    #[test]
    fn typos_find_their_word() {
        let types = ["string", "integer", "number", "boolean", "array", "object"];
        assert_eq!(closest("strin", &types), Some("string"));
        assert_eq!(closest("Integr", &types), Some("integer"));
        assert_eq!(closest("date", &types), None);
        assert_eq!(avoid_reserved("Option"), "OptionModel");
        assert_eq!(avoid_reserved("Error"), "Error");
    }

    #[test]
    fn identifiers() {
        assert!(is_valid_ident("CustomerUser"));
        assert!(!is_valid_ident("1abc"));
        assert!(!is_valid_ident("Grüße"));
        assert!(!is_valid_ident("_"));
        assert_eq!(field_ident("self").to_string(), "self_");
        assert_eq!(field_ident("type").to_string(), "r#type");
    }
}
