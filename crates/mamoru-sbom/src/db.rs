//! The local vulnerability database: OSV records imported from osv.dev exports (a directory tree of `*.json` or a
//! zip such as `PyPI/all.zip`), stored as one JSON file (`osv.json`) in the database directory, and indexed in
//! memory by ecosystem and normalised package name when loaded.

use crate::error::{Error, Result};
use crate::osv::{self, Record};
use crate::package::{Ecosystem, Package};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

const DB_FILE: &str = "osv.json";
const FORMAT: u32 = 1;
/// Largest single OSV record accepted (real ones are a few KiB; a few large Go records reach ~1 MiB).
const MAX_RECORD_BYTES: u64 = 16 << 20;

#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    records: Vec<Record>,
}

/// Counts from one import.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    pub imported: usize,
    pub withdrawn: usize,
    /// Records naming no ecosystem this database matches (kept out).
    pub unsupported: usize,
    pub invalid: usize,
    /// Records in the database after the import.
    pub total: usize,
}

/// An OSV database with its name index.
#[derive(Debug, Default)]
pub struct Database {
    records: BTreeMap<String, Record>,
    index: HashMap<(Ecosystem, String), Vec<String>>,
}

impl Database {
    /// The default database directory: `$MAMORU_DB`, else `$XDG_CACHE_HOME/mamoru/db`, else `~/.cache/mamoru/db`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("MAMORU_DB") {
            return PathBuf::from(d);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(".cache")
            });
        cache.join("mamoru").join("db")
    }

    /// Loads the database in `dir`; an absent database is empty.
    pub fn open(dir: &Path) -> Result<Self> {
        let file = dir.join(DB_FILE);
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Database::default()),
            Err(e) => return Err(Error::io(file, e)),
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: file.clone(),
            source,
        })?;
        if stored.format != FORMAT {
            return Err(Error::invalid(
                file,
                format!("database format {} (expected {FORMAT}); re-import", stored.format),
            ));
        }
        let mut db = Database::default();
        for r in stored.records {
            db.insert(r);
        }
        Ok(db)
    }

    /// Writes the database to `dir` atomically (temp file + rename).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let stored = Stored {
            format: FORMAT,
            records: self.records.values().cloned().collect(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(|source| Error::Json {
            path: dir.join(DB_FILE),
            source,
        })?;
        let tmp = dir.join(format!("{DB_FILE}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        let dest = dir.join(DB_FILE);
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(dest, e))
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Record> {
        self.records.get(id)
    }

    /// Adds or replaces a record (by id).
    pub fn insert(&mut self, record: Record) {
        if let Some(old) = self.records.remove(&record.id) {
            for key in index_keys(&old) {
                if let Some(ids) = self.index.get_mut(&key) {
                    ids.retain(|id| id != &old.id);
                }
            }
        }
        for key in index_keys(&record) {
            let ids = self.index.entry(key).or_default();
            if !ids.contains(&record.id) {
                ids.push(record.id.clone());
            }
        }
        self.records.insert(record.id.clone(), record);
    }

    /// Records that may concern `pkg` (by name and, for distro packages, source name).
    pub fn candidates<'a>(&'a self, pkg: &Package) -> impl Iterator<Item = &'a Record> + 'a {
        let eco = pkg.ecosystem;
        let mut names = vec![eco.normalize_name(&pkg.name)];
        if let Some(s) = &pkg.source_name {
            names.push(eco.normalize_name(s));
        }
        names.dedup();
        let mut ids: Vec<&String> = names
            .into_iter()
            .filter_map(|n| self.index.get(&(eco, n)))
            .flatten()
            .collect();
        ids.sort();
        ids.dedup();
        ids.into_iter().filter_map(|id| self.records.get(id))
    }

    /// Imports a directory tree of OSV JSON files or a zip of them.
    pub fn import(&mut self, source: &Path) -> Result<ImportStats> {
        let mut stats = ImportStats::default();
        let meta = std::fs::metadata(source).map_err(|e| Error::io(source, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            json_files(source, &mut files)?;
            files.sort();
            for f in files {
                let bytes = read_capped(&f)?;
                self.import_one(&f.display().to_string(), &bytes, &mut stats);
            }
        } else {
            self.import_zip(source, &mut stats)?;
        }
        stats.total = self.records.len();
        Ok(stats)
    }

    fn import_zip(&mut self, source: &Path, stats: &mut ImportStats) -> Result<()> {
        let file = std::fs::File::open(source).map_err(|e| Error::io(source, e))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| Error::Zip {
            path: source.into(),
            source: e,
        })?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| Error::Zip {
                path: source.into(),
                source: e,
            })?;
            let Ok(entry_name) = entry.name().map(|n| n.to_string()) else {
                stats.invalid += 1;
                continue;
            };
            let name = format!("{}!/{}", source.display(), entry_name);
            if !entry.is_file() || !entry_name.ends_with(".json") {
                continue;
            }
            if entry.size() > MAX_RECORD_BYTES {
                tracing::warn!(entry = %name, "OSV record over the size cap; skipped");
                stats.invalid += 1;
                continue;
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_RECORD_BYTES)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::io(&name, e))?;
            self.import_one(&name, &bytes, stats);
        }
        Ok(())
    }

    fn import_one(&mut self, name: &str, bytes: &[u8], stats: &mut ImportStats) {
        let record = serde_json::from_slice::<serde_json::Value>(bytes).and_then(osv::parse_record);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(file = name, error = %e, "not an OSV record; skipped");
                stats.invalid += 1;
                return;
            }
        };
        if record.withdrawn.is_some() {
            stats.withdrawn += 1;
            // A withdrawn record replaces an older live copy: drop that one too.
            if self.records.contains_key(&record.id) {
                self.remove(&record.id);
            }
            return;
        }
        if index_keys(&record).is_empty() {
            stats.unsupported += 1;
            return;
        }
        self.insert(record);
        stats.imported += 1;
    }

    fn remove(&mut self, id: &str) {
        if let Some(old) = self.records.remove(id) {
            for key in index_keys(&old) {
                if let Some(ids) = self.index.get_mut(&key) {
                    ids.retain(|i| i != id);
                }
            }
        }
    }
}

fn index_keys(r: &Record) -> Vec<(Ecosystem, String)> {
    let mut keys: Vec<_> = r
        .affected
        .iter()
        .filter_map(|a| {
            let (eco, _) = Ecosystem::from_osv(&a.package.ecosystem)?;
            Some((eco, eco.normalize_name(&a.package.name)))
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let ty = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let path = entry.path();
        if ty.is_dir() {
            json_files(&path, out)?;
        } else if ty.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_capped(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    file.take(MAX_RECORD_BYTES)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}
