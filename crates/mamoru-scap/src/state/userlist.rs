//! User list blocks: users and groups, v1 and v2 (with per-entry lengths).

use mamoru_event::{GroupRecord, UserRecord};

use crate::error::BodyError;
use crate::wire::{Cursor, Out};

const TYPE_USER: u8 = 0;
const TYPE_GROUP: u8 = 1;
/// libscap rejects credential strings of this length or longer.
const MAX_CREDENTIAL_STR: usize = 255;

/// The users and groups of one user list block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserList {
    pub users: Vec<UserRecord>,
    pub groups: Vec<GroupRecord>,
}

pub(crate) fn parse_userlist(body: &[u8], v2: bool) -> Result<UserList, BodyError> {
    let mut c = Cursor::new(body);
    let mut list = UserList::default();
    while c.remaining() >= 4 {
        let start = c.pos();
        let entry_len = if v2 {
            Some(c.u32("user entry length")? as usize)
        } else {
            None
        };
        // libscap treats every type other than "user" as a group.
        if c.u8("user entry type")? == TYPE_USER {
            let uid = c.u32("uid")?;
            let gid = c.u32("gid")?;
            let name = c.str16("user name")?.to_vec();
            let home = c.str16("home directory")?.to_vec();
            let shell = c.str16("shell")?.to_vec();
            list.users.push(UserRecord {
                uid,
                gid,
                name,
                home,
                shell,
                container_id: Vec::new(),
            });
        } else {
            let gid = c.u32("gid")?;
            let name = c.str16("group name")?.to_vec();
            list.groups.push(GroupRecord {
                gid,
                name,
                container_id: Vec::new(),
            });
        }
        if let Some(len) = entry_len {
            let used = c.pos() - start;
            if used > len {
                return Err(BodyError::new(
                    start,
                    format!("user entry of {used} bytes overruns its length {len}"),
                ));
            }
            c.skip(len - used, "user entry tail")?;
        }
    }
    Ok(list)
}

/// Writes the v2 layout; each entry length counts its own 4-byte length field, as libscap expects.
pub(crate) fn encode_userlist(users: &[UserRecord], groups: &[GroupRecord], out: &mut Vec<u8>) {
    let mut o = Out(out);
    let cut = |s: &[u8]| s.len().min(MAX_CREDENTIAL_STR);
    for u in users {
        let len = 4 + 1 + 4 + 4 + 2 + cut(&u.name) + 2 + cut(&u.home) + 2 + cut(&u.shell);
        o.u32(len as u32).u8(TYPE_USER).u32(u.uid).u32(u.gid);
        o.str16(&u.name, MAX_CREDENTIAL_STR)
            .str16(&u.home, MAX_CREDENTIAL_STR)
            .str16(&u.shell, MAX_CREDENTIAL_STR);
    }
    for g in groups {
        let len = 4 + 1 + 4 + 2 + cut(&g.name);
        o.u32(len as u32)
            .u8(TYPE_GROUP)
            .u32(g.gid)
            .str16(&g.name, MAX_CREDENTIAL_STR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_groups_round_trip() {
        let users = vec![UserRecord {
            uid: 0,
            gid: 0,
            name: b"root".to_vec(),
            home: b"/root".to_vec(),
            shell: b"/bin/bash".to_vec(),
            container_id: Vec::new(),
        }];
        let groups = vec![GroupRecord {
            gid: 27,
            name: b"sudo".to_vec(),
            container_id: Vec::new(),
        }];
        let mut buf = Vec::new();
        encode_userlist(&users, &groups, &mut buf);
        let got = parse_userlist(&buf, true).unwrap();
        assert_eq!(got.users, users);
        assert_eq!(got.groups, groups);
    }

    #[test]
    fn v2_entry_length_skips_unknown_trailing_fields() {
        let mut buf = Vec::new();
        // A group entry with 3 extra bytes a newer writer might append.
        Out(&mut buf)
            .u32(4 + 1 + 4 + 2 + 1 + 3)
            .u8(TYPE_GROUP)
            .u32(5)
            .u16(1)
            .bytes(b"g")
            .bytes(&[9, 9, 9]);
        let got = parse_userlist(&buf, true).unwrap();
        assert_eq!(got.groups[0].name, b"g");
    }

    #[test]
    fn truncated_user_is_an_error() {
        let mut buf = Vec::new();
        Out(&mut buf).u8(TYPE_USER).u32(1).u32(1).u16(50).bytes(b"abc");
        assert!(parse_userlist(&buf, false).is_err());
    }
}
