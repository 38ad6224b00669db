//! The state view `evt.arg` / `evt.args` / `evt.res` rendering consults (fd names, thread names, users, cwd).

use super::SysEvent;
use mamoru_event::render::{FdDesc, Resolver};
use mamoru_state::L4;

pub(crate) struct StateResolver<'e, 'a> {
    pub ev: &'e SysEvent<'a>,
}

impl Resolver for StateResolver<'_, '_> {
    fn has_thread(&self) -> bool {
        self.ev.thread.is_some()
    }

    fn fd(&self, fd: i64) -> Option<FdDesc<'_>> {
        let t = self.ev.thread?;
        let f = self.ev.state.fd(t, fd)?;
        Some(FdDesc {
            typechar: f.kind.typechar(),
            l4proto: f.kind.l4().and_then(|l| match l {
                L4::Tcp => Some(b't'),
                L4::Udp => Some(b'u'),
                L4::Icmp => Some(b'i'),
                L4::Raw => Some(b'r'),
                L4::Unknown => None,
            }),
            name: &f.name,
        })
    }

    fn thread_comm(&self, tid: i64) -> Option<&[u8]> {
        self.ev.state.thread(tid).map(|t| t.comm.as_slice())
    }

    fn user_name(&self, uid: u32) -> Option<&[u8]> {
        let t = self.ev.thread?;
        self.ev.state.user_of(t, uid).map(|u| u.name.as_slice())
    }

    fn group_name(&self, gid: u32) -> Option<&[u8]> {
        let t = self.ev.thread?;
        self.ev.state.group_of(t, gid).map(|g| g.name.as_slice())
    }

    fn cwd(&self) -> Option<&[u8]> {
        let t = self.ev.thread?;
        Some(self.ev.state.cwd(t))
    }

    fn dir_fd_path(&self, dirfd: i64) -> Option<&[u8]> {
        let t = self.ev.thread?;
        self.ev.state.fd(t, dirfd).map(|f| f.name.as_slice())
    }
}
