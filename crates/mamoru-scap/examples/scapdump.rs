//! Prints a capture's records, one line each: `scapdump FILE [--raw]` (`--raw` disables old-event conversion).
//! Event lines are `NUM TS TID TYPE DIR NPARAMS`, close to `sysdig -p '%evt.num %evt.rawtime %thread.tid %evt.type
//! %evt.dir'`, so the two can be compared.

use mamoru_event::Direction;
use mamoru_scap::{ReaderOptions, Record, ScapReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: scapdump FILE [--raw]")?;
    let raw = args.any(|a| a == "--raw");
    let opts = ReaderOptions {
        convert_old: !raw,
        ..ReaderOptions::default()
    };
    let mut reader = ScapReader::open_with(&path, opts)?;
    let mut num = 0u64;
    while let Some(rec) = reader.next_record()? {
        match rec {
            Record::Event { event, .. } => {
                num += 1;
                let dir = if event.info().dir == Direction::Enter { '>' } else { '<' };
                println!(
                    "{num} {} {} {} {dir} {} {}",
                    event.ts,
                    event.tid,
                    event.name(),
                    event.nparams(),
                    event.etype
                );
            }
            Record::Threads(t) => eprintln!("threads: {}", t.len()),
            Record::Fds { tid, fds } => eprintln!("fds: tid {tid} {}", fds.len()),
            other => eprintln!("{other:?}"),
        }
    }
    eprintln!("{:?}", reader.stats());
    Ok(())
}
