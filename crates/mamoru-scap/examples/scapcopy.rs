//! Copies a capture through mamoru's reader and writer: `scapcopy IN OUT [--raw] [--gzip] [--current]`.
//! `--raw` keeps events as they are (no old-event conversion), `--current` skips sysdig 0.29 adjustments.

use mamoru_scap::{Compat, ReaderOptions, ScapReader, ScapWriter, WriterOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, ..] = args.as_slice() else {
        return Err("usage: scapcopy IN OUT [--raw] [--gzip] [--current]".into());
    };
    let flag = |f: &str| args.iter().any(|a| a == f);
    let ropts = ReaderOptions {
        convert_old: !flag("--raw"),
        ..ReaderOptions::default()
    };
    let wopts = WriterOptions {
        gzip: flag("--gzip"),
        compat: if flag("--current") {
            Compat::Current
        } else {
            Compat::Sysdig029
        },
    };
    let mut reader = ScapReader::open_with(input, ropts)?;
    let mut writer = ScapWriter::new(std::io::BufWriter::new(std::fs::File::create(output)?), wopts)?;
    while let Some(rec) = reader.next_record()? {
        writer.write_record(&rec)?;
    }
    writer.finish()?;
    eprintln!("{:?}", reader.stats());
    Ok(())
}
