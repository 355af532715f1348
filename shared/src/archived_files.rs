//! What a rewrite of a ticket's transactions (`PATCH /tickets/{id}` with `transactions`) does
//! to their archived files. The API never carries a file's record (it is the archive job's), so
//! the rewrite's attachments come without one: an attachment the rewrite still has keeps it
//! (same transaction, and the same attachment id, or the same position for one without an
//! id); the files of the attachments it drops are erased once the rewrite is stored.

use std::collections::HashSet;

use crate::db::{Attachment, TransactionDoc};

/// Gives each attachment of `rewritten` the file record it had `before` (each transaction's
/// attachments, by transaction id); returns the keys of the files no attachment keeps.
pub fn carry_over(
    rewritten: &mut [TransactionDoc],
    before: &[(i64, Vec<Attachment>)],
) -> Vec<String> {
    let mut kept = HashSet::new();
    for transaction in rewritten.iter_mut() {
        let Some((_, old)) = before.iter().find(|(id, _)| *id == transaction.id) else {
            continue;
        };
        for (index, attachment) in transaction.attachments.iter_mut().enumerate() {
            let segment = attachment.segment(index);
            let file = old
                .iter()
                .enumerate()
                .find(|(position, old)| old.segment(*position) == segment)
                .and_then(|(_, old)| old.stored.clone());
            if let Some(file) = file {
                kept.insert(file.key.clone());
                attachment.stored = Some(file);
            }
        }
    }
    before
        .iter()
        .flat_map(|(_, attachments)| attachments.iter())
        .filter_map(|attachment| attachment.stored.as_ref())
        .map(|file| file.key.clone())
        .filter(|key| !kept.contains(key))
        .collect()
}
