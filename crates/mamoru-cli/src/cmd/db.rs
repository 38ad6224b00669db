//! `mamoru db`: the local vulnerability database (OSV records) that scans match packages against.

use anyhow::{Context, Result};
use clap::Subcommand;
use mamoru_sbom::Database;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import osv.dev export records: directories of OSV JSON files or zips (such as an ecosystem's all.zip).
    Import {
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// Database directory (default: $MAMORU_DB, else ~/.cache/mamoru/db).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Print how many records the database holds.
    Info {
        /// Database directory (default: $MAMORU_DB, else ~/.cache/mamoru/db).
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

pub fn run(cmd: DbCommand) -> Result<ExitCode> {
    match cmd {
        DbCommand::Import { sources, db } => {
            let dir = db.unwrap_or_else(Database::default_dir);
            let mut database = Database::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
            for source in &sources {
                let stats = database
                    .import(source)
                    .with_context(|| format!("importing {}", source.display()))?;
                println!(
                    "{}: {} imported, {} withdrawn, {} unsupported ecosystem, {} invalid",
                    source.display(),
                    stats.imported,
                    stats.withdrawn,
                    stats.unsupported,
                    stats.invalid
                );
            }
            database
                .save(&dir)
                .with_context(|| format!("writing {}", dir.display()))?;
            println!("{}: {} records", dir.display(), database.len());
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Info { db } => {
            let dir = db.unwrap_or_else(Database::default_dir);
            let database = Database::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
            println!("{}: {} records", dir.display(), database.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
