//! Users and groups per container (the host's from capture records or `/etc/passwd` and `/etc/group`).

use crate::hash::IdMap;
use mamoru_event::{GroupRecord, UserRecord};
use std::collections::HashMap;

/// Upper bounds that keep the tables finite whatever the input.
const MAX_CONTAINERS: usize = 4096;
const MAX_ENTRIES_PER_CONTAINER: usize = 65536;

/// Users and groups, keyed by container id (empty or `host` for the host).
#[derive(Debug, Default)]
pub struct UserTables {
    users: HashMap<Vec<u8>, IdMap<u32, UserRecord>>,
    groups: HashMap<Vec<u8>, IdMap<u32, GroupRecord>>,
    /// Entries refused because a bound was reached.
    pub dropped: u64,
}

/// Host entries are stored under the empty key whether the caller says `""` or `"host"`.
fn key(container_id: &[u8]) -> &[u8] {
    if container_id == crate::container::HOST_ID {
        b""
    } else {
        container_id
    }
}

impl UserTables {
    pub fn add_user(&mut self, rec: UserRecord) {
        let k = key(&rec.container_id).to_vec();
        if !self.users.contains_key(&k) && self.users.len() >= MAX_CONTAINERS {
            self.dropped += 1;
            return;
        }
        let table = self.users.entry(k).or_default();
        if !table.contains_key(&rec.uid) && table.len() >= MAX_ENTRIES_PER_CONTAINER {
            self.dropped += 1;
            return;
        }
        table.insert(rec.uid, rec);
    }

    pub fn remove_user(&mut self, container_id: &[u8], uid: u32) {
        if let Some(t) = self.users.get_mut(key(container_id)) {
            t.remove(&uid);
        }
    }

    pub fn add_group(&mut self, rec: GroupRecord) {
        let k = key(&rec.container_id).to_vec();
        if !self.groups.contains_key(&k) && self.groups.len() >= MAX_CONTAINERS {
            self.dropped += 1;
            return;
        }
        let table = self.groups.entry(k).or_default();
        if !table.contains_key(&rec.gid) && table.len() >= MAX_ENTRIES_PER_CONTAINER {
            self.dropped += 1;
            return;
        }
        table.insert(rec.gid, rec);
    }

    pub fn remove_group(&mut self, container_id: &[u8], gid: u32) {
        if let Some(t) = self.groups.get_mut(key(container_id)) {
            t.remove(&gid);
        }
    }

    /// Drops every user and group of one container.
    pub fn remove_container(&mut self, container_id: &[u8]) {
        self.users.remove(key(container_id));
        self.groups.remove(key(container_id));
    }

    /// The user `uid` of `container_id`.
    pub fn user(&self, container_id: &[u8], uid: u32) -> Option<&UserRecord> {
        self.users.get(key(container_id))?.get(&uid)
    }

    /// The group `gid` of `container_id`.
    pub fn group(&self, container_id: &[u8], gid: u32) -> Option<&GroupRecord> {
        self.groups.get(key(container_id))?.get(&gid)
    }

    pub fn user_count(&self) -> usize {
        self.users.values().map(|t| t.len()).sum()
    }

    pub fn group_count(&self) -> usize {
        self.groups.values().map(|t| t.len()).sum()
    }
}

/// Parses `passwd` text (`name:pw:uid:gid:gecos:home:shell`); malformed lines are skipped.
pub fn parse_passwd(text: &[u8], container_id: &[u8]) -> Vec<UserRecord> {
    text.split(|c| *c == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .filter_map(|line| {
            let f: Vec<&[u8]> = line.split(|c| *c == b':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(UserRecord {
                uid: parse_u32(f[2])?,
                gid: parse_u32(f[3])?,
                name: f[0].to_vec(),
                home: f[5].to_vec(),
                shell: f[6].strip_suffix(b"\r").unwrap_or(f[6]).to_vec(),
                container_id: container_id.to_vec(),
            })
        })
        .collect()
}

/// Parses `group` text (`name:pw:gid:members`); malformed lines are skipped.
pub fn parse_group(text: &[u8], container_id: &[u8]) -> Vec<GroupRecord> {
    text.split(|c| *c == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .filter_map(|line| {
            let f: Vec<&[u8]> = line.split(|c| *c == b':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupRecord {
                gid: parse_u32(f[2])?,
                name: f[0].to_vec(),
                container_id: container_id.to_vec(),
            })
        })
        .collect()
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_and_group() {
        let users = parse_passwd(
            b"root:x:0:0:root:/root:/bin/bash\nbad line\n# c\nnobody:x:65534:65534::/:/sbin/nologin\n",
            b"",
        );
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].shell, b"/sbin/nologin");
        let groups = parse_group(b"root:x:0:\nwheel:x:10:a,b\n", b"");
        assert_eq!(groups[1].gid, 10);
        let mut t = UserTables::default();
        for u in users {
            t.add_user(u);
        }
        assert_eq!(t.user(b"host", 0).map(|u| u.name.as_slice()), Some(&b"root"[..]));
        assert!(t.user(b"abc", 0).is_none());
    }
}
