//! Path-prefix search for `pmatch`: a value matches when one of the search paths is a component-wise prefix of it
//! (`/opt/dir` matches `/opt/dir` and `/opt/dir/sub/file`, not `/opt/di`). Components may hold glob wildcards
//! (`/opt/*/subdir`). Components are compared after splitting on `/` and dropping empty ones, as libsinsp's
//! `path_prefix_search` does; the search splits the value lazily, so matching allocates nothing.

use crate::glob::glob_match;
use rustc_hash::FxHashMap;

#[derive(Debug, Default)]
pub(crate) struct PathSet {
    root: Entry,
}

#[derive(Debug, Default)]
struct Entry {
    /// A search path ends here: everything at or below matches.
    terminal: bool,
    children: Option<Box<Dir>>,
}

#[derive(Debug, Default)]
struct Dir {
    literal: FxHashMap<Box<[u8]>, Entry>,
    wildcard: Vec<(Box<[u8]>, Entry)>,
}

fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty())
}

fn has_wildcard(component: &[u8]) -> bool {
    component.iter().any(|b| matches!(b, b'?' | b'*' | b'['))
}

impl PathSet {
    pub(crate) fn new<'a>(paths: impl IntoIterator<Item = &'a [u8]>) -> PathSet {
        let mut set = PathSet::default();
        for p in paths {
            set.root.insert(components(p));
        }
        set
    }

    pub(crate) fn matches(&self, path: &[u8]) -> bool {
        self.root.matches(components(path))
    }
}

impl Entry {
    fn insert<'a>(&mut self, mut comps: impl Iterator<Item = &'a [u8]>) {
        if self.terminal {
            // A shorter search path already covers everything below.
            return;
        }
        let Some(first) = comps.next() else {
            self.terminal = true;
            self.children = None;
            return;
        };
        let dir = self.children.get_or_insert_with(Default::default);
        let entry = if has_wildcard(first) {
            match dir.wildcard.iter().position(|(k, _)| &**k == first) {
                Some(i) => &mut dir.wildcard[i].1,
                None => {
                    dir.wildcard.push((first.into(), Entry::default()));
                    let last = dir.wildcard.len() - 1;
                    &mut dir.wildcard[last].1
                }
            }
        } else {
            dir.literal.entry(first.into()).or_default()
        };
        entry.insert(comps);
    }

    fn matches<'a>(&self, mut comps: impl Iterator<Item = &'a [u8]> + Clone) -> bool {
        if self.terminal {
            return true;
        }
        let (Some(dir), Some(first)) = (&self.children, comps.next()) else {
            return false;
        };
        if let Some(e) = dir.literal.get(first) {
            if e.matches(comps.clone()) {
                return true;
            }
        }
        dir.wildcard
            .iter()
            .any(|(pat, e)| glob_match(pat, first, false) && e.matches(comps.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::PathSet;

    fn set(paths: &[&str]) -> PathSet {
        PathSet::new(paths.iter().map(|p| p.as_bytes()))
    }

    #[test]
    fn prefix_semantics() {
        let s = set(&["/var/run", "/etc", "/lib", "/usr/lib"]);
        assert!(s.matches(b"/var/run/docker"));
        assert!(s.matches(b"/etc"));
        assert!(!s.matches(b"/boot"));
        assert!(!s.matches(b"/var/lib/messages"));
        assert!(!s.matches(b"/var"), "a partial prefix is no match");
        assert!(!s.matches(b"/et"));
        assert!(!s.matches(b"/etcetera"));
        assert!(s.matches(b"//etc//passwd"), "empty components are skipped");
    }

    #[test]
    fn shorter_paths_win_in_any_order() {
        let s = set(&["/usr/lib", "/usr"]);
        assert!(s.matches(b"/usr/bin/x"));
        let s = set(&["/usr", "/usr/lib"]);
        assert!(s.matches(b"/usr/bin/x"));
    }

    #[test]
    fn wildcard_components() {
        let s = set(&["/opt/*/subdir", "/home/user?/.ssh"]);
        assert!(s.matches(b"/opt/app/subdir/file.txt"));
        assert!(!s.matches(b"/opt/app/other"));
        assert!(s.matches(b"/home/user1/.ssh/id_rsa"));
        assert!(!s.matches(b"/home/user12/.ssh/id_rsa"));
    }

    #[test]
    fn root_matches_everything() {
        let s = set(&["/"]);
        assert!(s.matches(b"/anything/at/all"));
        assert!(!set(&[]).matches(b"/x"));
    }
}
