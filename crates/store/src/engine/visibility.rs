//! Which entries an [`Audience`] sees: the condition every read that
//! users reach appends.

use crate::StoreError;
use crate::query::{Audience, MAX_AUDIENCE_VOS};
use crate::sql::Sql;

/// Refuses an audience with more than [`MAX_AUDIENCE_VOS`] VOs.
pub(super) fn check_audience(audience: &Audience) -> Result<(), StoreError> {
    match audience {
        Audience::Members(vos) if vos.len() > MAX_AUDIENCE_VOS => Err(StoreError::InvalidQuery(
            format!("a reader may be a member of at most {MAX_AUDIENCE_VOS} VOs"),
        )),
        _ => Ok(()),
    }
}

/// A table alias whose entries [`visible_condition`] filters: its
/// `restricted` and `seq` columns.
#[derive(Debug, Clone, Copy)]
pub(super) struct Alias {
    /// `<alias>.restricted`.
    pub restricted: &'static str,
    /// `<alias>.seq`.
    pub seq: &'static str,
}

/// The alias `e`.
pub(super) const E: Alias = Alias {
    restricted: "e.restricted",
    seq: "e.seq",
};

/// Appends ` AND <the entry of alias is visible to audience>` (nothing for
/// [`Audience::Everything`]): public entries, and for members the
/// restricted entries with one of their VOs (an indexed lookup in
/// `entry_visibility` by sequence and VO). Check the audience with
/// [`check_audience`] first.
pub(super) fn visible_condition(s: &mut Sql, alias: Alias, audience: &Audience) {
    match audience {
        Audience::Everything => {}
        Audience::Members(vos) if !vos.is_empty() => {
            s.push(" AND (NOT ")
                .push(alias.restricted)
                .push(" OR EXISTS (SELECT 1 FROM entry_visibility ev WHERE ev.seq = ")
                .push(alias.seq)
                .push(" AND ev.vo IN (");
            for (i, vo) in vos.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.text(vo);
            }
            s.push(")))");
        }
        Audience::Public | Audience::Members(_) => {
            s.push(" AND NOT ").push(alias.restricted);
        }
    }
}
