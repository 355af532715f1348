//! Where things are in an export's ZIP. Every name is built from ids and a cleaned file name, so
//! no archived value can climb out of its folder or be read as an option by an unzip tool.

/// File names longer than this (in characters) are cut, keeping their extension.
const MAX_NAME_CHARS: usize = 80;

/// The key of an export's file in the store: `exports/{exportId}.zip` (ids only: a key is not
/// personal data).
pub fn export_key(export_id: &str) -> String {
    format!("exports/{export_id}.zip")
}

/// A ticket's transcript: `tickets/{ticketId}.html`.
pub fn transcript_path(ticket_id: i64) -> String {
    format!("tickets/{ticket_id}.html")
}

/// An archived file: `files/{ticketId}/{transactionId}/{attachment}-{safe file name}`, where
/// `attachment` is the attachment's segment (its id, or `n<position>`), which keeps two files
/// of the same name apart.
pub fn file_path(
    ticket_id: i64,
    transaction_id: i64,
    attachment: &str,
    original_file_name: Option<&str>,
) -> String {
    format!(
        "files/{ticket_id}/{transaction_id}/{attachment}-{}",
        safe_file_name(original_file_name.unwrap_or_default())
    )
}

/// A file name any file system and unzip tool takes: letters and digits of any script, `.`,
/// `-` and `_` are kept, anything else (separators, control characters, spaces, quotes)
/// becomes `_`; no leading `.` or `-`; at most [`MAX_NAME_CHARS`] characters, the extension
/// kept; `file` when nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches(['.', '-']);
    if trimmed.chars().all(|c| c == '_' || c == '.') {
        return "file".to_owned();
    }
    if trimmed.chars().count() <= MAX_NAME_CHARS {
        return trimmed.to_owned();
    }
    let extension: String = match trimmed.rsplit_once('.') {
        Some((_, ext)) if (1..=10).contains(&ext.chars().count()) => format!(".{ext}"),
        _ => String::new(),
    };
    let stem: String = trimmed
        .chars()
        .take(MAX_NAME_CHARS - extension.chars().count())
        .collect();
    format!("{stem}{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_cannot_leave_its_folder_or_look_like_an_option() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("..\\..\\boot.ini"), "_.._boot.ini");
        assert_eq!(safe_file_name("-rf"), "rf");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name("a\u{0}b\nc"), "a_b_c");
        assert_eq!(safe_file_name(""), "file");
        assert_eq!(safe_file_name("///"), "file");
    }

    #[test]
    fn hebrew_names_are_kept_and_long_names_keep_their_extension() {
        assert_eq!(safe_file_name("חשבונית מס.pdf"), "חשבונית_מס.pdf");
        let long = format!("{}.jpeg", "א".repeat(200));
        let safe = safe_file_name(&long);
        assert_eq!(safe.chars().count(), MAX_NAME_CHARS);
        assert!(safe.ends_with(".jpeg"), "{safe}");
    }

    #[test]
    fn paths_are_made_of_ids_and_the_cleaned_name() {
        assert_eq!(
            file_path(48213977, 1001, "5", Some("scan 1.pdf")),
            "files/48213977/1001/5-scan_1.pdf"
        );
        assert_eq!(file_path(1, 2, "n0", None), "files/1/2/n0-file");
        assert_eq!(transcript_path(7), "tickets/7.html");
        assert_eq!(export_key("abc"), "exports/abc.zip");
    }
}
