//! State blocks: what the capture says about the machine, its interfaces, users, threads and open files when
//! capturing started. Each module parses one block body and encodes the layout the writer emits.

pub(crate) mod fdlist;
pub(crate) mod iflist;
pub(crate) mod machine;
pub(crate) mod proclist;
pub(crate) mod userlist;

pub use machine::{MachineInfo, SectionHeader};
pub use userlist::UserList;
