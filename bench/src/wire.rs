//! Just enough of the MongoDB wire protocol to name the command in a client's message: an
//! `OP_MSG` is a 16-byte header (length, request id, response to, opCode 2013), 4 bytes of
//! flags, then sections. A kind-0 section is the command's body, a BSON document whose first
//! key is the command name (`find`, `insert`, `createIndexes`, …); a kind-1 section is a
//! document sequence (an insert's documents) with its own length, skipped here. With the
//! `checksumPresent` flag the message ends with a CRC-32C that is no section.

pub const OP_MSG: i32 = 2013;
const HEADER_LEN: usize = 16;
const CHECKSUM_PRESENT: u32 = 1;

/// The command an OP_MSG carries (the first key of its body section); `None` for any other
/// opCode (the driver's first handshake is a legacy OP_QUERY), a message without a body
/// section, or bytes that are no complete message.
pub fn command_name(message: &[u8]) -> Option<&str> {
    let length = usize::try_from(read_i32(message, 0)?).ok()?;
    if length != message.len() || read_i32(message, 12)? != OP_MSG {
        return None;
    }
    let flags = u32::from_le_bytes(message.get(HEADER_LEN..HEADER_LEN + 4)?.try_into().ok()?);
    let end = if flags & CHECKSUM_PRESENT != 0 {
        length.checked_sub(4)?
    } else {
        length
    };
    let mut at = HEADER_LEN + 4;
    while at < end {
        let kind = *message.get(at)?;
        let size = usize::try_from(read_i32(message, at + 1)?).ok()?;
        let section = message.get(at + 1..(at + 1).checked_add(size)?)?;
        match kind {
            0 => return first_key(section),
            1 => at += 1 + size,
            _ => return None,
        }
    }
    None
}

/// The commands that create indexes (`createIndex` is the shell's helper name; drivers send
/// `createIndexes`).
pub fn is_index_command(name: &str) -> bool {
    matches!(name, "createIndexes" | "createIndex")
}

/// Commands a driver sends by itself (server monitoring, handshakes, session clean-up), not
/// because the application asked for anything.
pub fn is_housekeeping(name: &str) -> bool {
    matches!(
        name,
        "hello"
            | "isMaster"
            | "ismaster"
            | "ping"
            | "buildInfo"
            | "buildinfo"
            | "endSessions"
            | "saslStart"
            | "saslContinue"
            | "killCursors"
    )
}

/// A BSON document: int32 length, then elements (type byte, NUL-terminated name, value), then a
/// NUL. The first element's name, if there is one.
fn first_key(document: &[u8]) -> Option<&str> {
    if *document.get(4)? == 0 {
        return None;
    }
    let name = document.get(5..)?;
    let nul = name.iter().position(|&byte| byte == 0)?;
    std::str::from_utf8(&name[..nul]).ok()
}

fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{Document, doc};

    fn bson(document: &Document) -> Vec<u8> {
        let mut bytes = Vec::new();
        document
            .to_writer(&mut bytes)
            .expect("a document serializes");
        bytes
    }

    /// A wire message: header, flags, then `sections` as given.
    fn message(op_code: i32, flags: u32, sections: &[u8]) -> Vec<u8> {
        let length = (HEADER_LEN + 4 + sections.len()) as i32;
        let mut bytes = Vec::new();
        for field in [length, 7, 0, op_code] {
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        bytes.extend_from_slice(&flags.to_le_bytes());
        bytes.extend_from_slice(sections);
        bytes
    }

    fn body(document: &Document) -> Vec<u8> {
        let mut section = vec![0];
        section.extend(bson(document));
        section
    }

    /// A kind-1 section: size (itself included), identifier, documents.
    fn sequence(identifier: &str, documents: &[Document]) -> Vec<u8> {
        let mut payload = identifier.as_bytes().to_vec();
        payload.push(0);
        for document in documents {
            payload.extend(bson(document));
        }
        let mut section = vec![1];
        section.extend_from_slice(&((payload.len() + 4) as i32).to_le_bytes());
        section.extend(payload);
        section
    }

    #[test]
    fn the_command_is_the_first_key_of_the_body() {
        let create = doc! {"createIndexes": "clients", "indexes": [{"key": {"identifier": 1}, "name": "identifier_1"}], "$db": "ctm"};
        let bytes = message(OP_MSG, 0, &body(&create));
        assert_eq!(command_name(&bytes), Some("createIndexes"));
        assert!(is_index_command("createIndexes") && is_index_command("createIndex"));

        let find = doc! {"find": "createIndexes", "filter": {"createIndexes": 1}, "$db": "ctm"};
        let bytes = message(OP_MSG, 0, &body(&find));
        assert_eq!(command_name(&bytes), Some("find"));
        assert!(!is_index_command("find"));
    }

    #[test]
    fn a_document_sequence_before_the_body_is_skipped() {
        let mut sections = sequence("documents", &[doc! {"createIndexes": 1}, doc! {"a": 2}]);
        sections.extend(body(&doc! {"insert": "tickets", "$db": "ctm"}));
        assert_eq!(command_name(&message(OP_MSG, 0, &sections)), Some("insert"));
    }

    #[test]
    fn a_checksum_is_not_read_as_a_section() {
        let mut sections = body(&doc! {"delete": "tickets"});
        sections.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            command_name(&message(OP_MSG, CHECKSUM_PRESENT, &sections)),
            Some("delete")
        );
        let mut no_body = sequence("documents", &[doc! {"a": 1}]);
        no_body.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            command_name(&message(OP_MSG, CHECKSUM_PRESENT, &no_body)),
            None
        );
    }

    #[test]
    fn other_op_codes_cut_messages_and_empty_bodies_name_no_command() {
        let create = body(&doc! {"createIndexes": "clients"});
        const OP_QUERY: i32 = 2004;
        assert_eq!(command_name(&message(OP_QUERY, 0, &create)), None);
        let whole = message(OP_MSG, 0, &create);
        assert_eq!(command_name(&whole[..whole.len() - 1]), None);
        assert_eq!(command_name(&whole[..10]), None);
        assert_eq!(command_name(&message(OP_MSG, 0, &body(&doc! {}))), None);
        assert_eq!(command_name(&message(OP_MSG, 0, &[])), None);
        // A section that claims more bytes than the message has.
        let mut lying = vec![1];
        lying.extend_from_slice(&1000i32.to_le_bytes());
        assert_eq!(command_name(&message(OP_MSG, 0, &lying)), None);
    }
}
