//! Minimal in-place editing of JSON text, enough to adjust the `config.json`
//! that `runc spec` writes without a JSON library: find the value of a key,
//! replace it, and split an array into its elements. Strings (with escapes)
//! are skipped correctly; the text is assumed to be valid JSON.

use anyhow::{bail, Context, Result};
use std::ops::Range;

/// Byte range of the end of the string literal starting at `start` (which
/// must be a `"`): the index just past the closing quote.
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Index just past the object or array opening at `start`.
fn bracket_end(text: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i = string_end(text, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index just past the JSON value starting at `start`.
fn value_end(text: &[u8], start: usize) -> Option<usize> {
    match text.get(start)? {
        b'"' => string_end(text, start),
        b'{' | b'[' => bracket_end(text, start),
        _ => {
            let len = text[start..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(text.len() - start);
            Some(start + len)
        }
    }
}

fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Byte range of the value of the first member named `key`, at any depth.
pub fn value_range(text: &str, key: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let wanted = json_string(key);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let end = string_end(bytes, i)?;
        let colon = skip_ws(bytes, end);
        if bytes.get(colon) == Some(&b':') && text[i..end] == wanted {
            let start = skip_ws(bytes, colon + 1);
            return Some(start..value_end(bytes, start)?);
        }
        i = end;
    }
    None
}

/// `text` with the value of the first member named `key` replaced by `value`
/// (which must already be JSON).
pub fn replace_value(text: &str, key: &str, value: &str) -> Result<String> {
    let range = value_range(text, key).with_context(|| format!("no {key:?} member"))?;
    Ok(format!("{}{}{}", &text[..range.start], value, &text[range.end..]))
}

/// The elements of the JSON array that occupies `range` of `text`.
pub fn array_elements<'t>(text: &'t str, range: &Range<usize>) -> Result<Vec<&'t str>> {
    let bytes = text.as_bytes();
    if bytes.get(range.start) != Some(&b'[') {
        bail!("value is not an array");
    }
    let mut elements = Vec::new();
    let mut i = skip_ws(bytes, range.start + 1);
    while i < range.end - 1 {
        let end = value_end(bytes, i).context("malformed array")?;
        elements.push(&text[i..end]);
        i = skip_ws(bytes, end);
        if bytes.get(i) == Some(&b',') {
            i = skip_ws(bytes, i + 1);
        }
    }
    Ok(elements)
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `items` as a JSON array of strings.
pub fn json_string_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
	"process": { "terminal": true, "args": [ "sh" ], "cwd": "/" },
	"root": { "path": "rootfs", "readonly": true },
	"mounts": [ { "destination": "/proc", "type": "proc" },
		{ "destination": "/x\"]", "type": "cgroup" } ]
}"#;

    #[test]
    fn finds_and_replaces_values() {
        let r = value_range(SAMPLE, "terminal").unwrap();
        assert_eq!(&SAMPLE[r], "true");
        let edited = replace_value(SAMPLE, "args", &json_string_array(&["a\"b".into()])).unwrap();
        let r = value_range(&edited, "args").unwrap();
        assert_eq!(&edited[r], r#"["a\"b"]"#);
        assert!(value_range(SAMPLE, "missing").is_none());
    }

    #[test]
    fn splits_arrays_with_tricky_strings() {
        let r = value_range(SAMPLE, "mounts").unwrap();
        let elements = array_elements(SAMPLE, &r).unwrap();
        assert_eq!(elements.len(), 2);
        assert!(elements[1].ends_with("\"cgroup\" }"));
        let empty = "[ ]";
        assert!(array_elements(empty, &(0..3)).unwrap().is_empty());
    }
}
