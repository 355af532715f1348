//! Material for hostile-input tests: text that looks like MongoDB query syntax, and edits that
//! damage a JSON document or its bytes. The property tests pick among them with `proptest`
//! (a dev-dependency of the crates that run them).

use serde_json::Value;

/// Text a careless store would read as query syntax: operators, operator objects written as
/// JSON text, dotted paths, aggregation variables. None starts with `$` or holds white space,
/// so each is a valid identifier, name, tag or label.
pub const OPERATOR_LOOKING: [&str; 14] = [
    r#"{"$ne":null}"#,
    r#"{"$gt":""}"#,
    r#"{"$where":"sleep(100)"}"#,
    r#"{"$regex":".*"}"#,
    r#"{"$set":{"name":"x"}}"#,
    "a.b",
    "a.$b",
    ".",
    "..",
    "x.$[]",
    "[$ne]",
    "this.identifier!=null",
    "a$where",
    "{$gt:1}",
];

/// Text that starts with `$` (refused as an identifier, name, tag or label: 422).
pub const DOLLAR_PREFIXED: [&str; 6] = ["$where", "$gt", "$", "$$ROOT", "$ne:null", "$set.a"];

/// One change to a JSON document, made at the node a path of child indexes leads to.
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Replace(Value),
    /// Removes the node from its parent (the root becomes `null`).
    Remove,
    /// Adds a field to an object, an item to an array, or replaces any other node.
    Insert(String, Value),
    /// `x` becomes `[x]`.
    Wrap,
    /// `x` becomes the string of its JSON text.
    Stringify,
}

/// Applies `edit` at the node `path` leads to: each step picks a child (modulo the number of
/// children) until the path ends or a node has no children.
pub fn edit_json(node: &mut Value, path: &[usize], edit: &JsonEdit) {
    let children = match node {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        _ => 0,
    };
    if let Some((&step, rest)) = path.split_first()
        && children > 0
    {
        let index = step % children;
        if rest.is_empty() && matches!(edit, JsonEdit::Remove) {
            match node {
                Value::Array(items) => {
                    items.remove(index);
                }
                Value::Object(fields) => {
                    if let Some(name) = fields.keys().nth(index).cloned() {
                        fields.remove(&name);
                    }
                }
                _ => {}
            }
            return;
        }
        let child = match node {
            Value::Array(items) => items.get_mut(index),
            Value::Object(fields) => fields.values_mut().nth(index),
            _ => None,
        };
        if let Some(child) = child {
            edit_json(child, rest, edit);
        }
        return;
    }
    match edit {
        JsonEdit::Replace(value) => *node = value.clone(),
        JsonEdit::Remove => *node = Value::Null,
        JsonEdit::Insert(name, value) => match node {
            Value::Object(fields) => {
                fields.insert(name.clone(), value.clone());
            }
            Value::Array(items) => items.push(value.clone()),
            other => *other = value.clone(),
        },
        JsonEdit::Wrap => *node = Value::Array(vec![node.take()]),
        JsonEdit::Stringify => *node = Value::String(node.to_string()),
    }
}

/// One edit of raw bytes; positions are taken modulo the length.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    /// XORs a byte with a non-zero mask.
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

pub fn edit_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    let len = bytes.len().max(1);
    match *edit {
        ByteEdit::Flip(at, mask) => {
            if let Some(byte) = bytes.get_mut(at % len) {
                *byte ^= mask.max(1);
            }
        }
        ByteEdit::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
        ByteEdit::Delete(at) => {
            if !bytes.is_empty() {
                bytes.remove(at % len);
            }
        }
        ByteEdit::Truncate(at) => bytes.truncate(at % len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edit_lands_where_its_path_leads() {
        let mut document = json!({"a": [1, 2, {"b": true}], "c": null});
        // Keys in order: a, c; then item 2 of a, then its only field.
        edit_json(&mut document, &[0, 2, 0], &JsonEdit::Replace(json!("x")));
        assert_eq!(document, json!({"a": [1, 2, {"b": "x"}], "c": null}));
        edit_json(&mut document, &[0, 1], &JsonEdit::Remove);
        assert_eq!(document, json!({"a": [1, {"b": "x"}], "c": null}));
        edit_json(&mut document, &[1], &JsonEdit::Wrap);
        assert_eq!(document, json!({"a": [1, {"b": "x"}], "c": [null]}));
        edit_json(&mut document, &[], &JsonEdit::Insert("d".into(), json!(1)));
        assert_eq!(document["d"], 1);
    }

    #[test]
    fn operator_looking_text_is_valid_text() {
        for text in OPERATOR_LOOKING {
            assert!(
                !text.starts_with('$') && !text.contains(char::is_whitespace),
                "{text}"
            );
        }
        assert!(DOLLAR_PREFIXED.iter().all(|t| t.starts_with('$')));
    }
}
