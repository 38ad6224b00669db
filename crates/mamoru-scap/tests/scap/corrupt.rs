//! Damaged input: every failure is an error naming the byte offset, never a panic or a huge allocation, and what was
//! read before the damage is delivered.

use crate::common;

use std::io::{Cursor, Write};

use common::Owned;
use mamoru_event::{EventBuilder, RawEvent, ThreadRecord, PPM_EVENT_MAX};
use mamoru_scap::{Compat, ReaderOptions, Record, ScapError, ScapReader, ScapWriter, WriterOptions};

const CLOSE_E: u16 = 4;
const CLOSE_X: u16 = 5;

/// A small capture: section header, process list, three close exit events.
fn capture() -> Vec<u8> {
    let mut w = ScapWriter::new(
        Vec::new(),
        WriterOptions {
            gzip: false,
            compat: Compat::Current,
        },
    )
    .unwrap();
    w.write_threads(&[ThreadRecord {
        tid: 7,
        pid: 7,
        comm: b"sh".to_vec(),
        ..ThreadRecord::default()
    }])
    .unwrap();
    for i in 0..3u64 {
        let ev = EventBuilder::new(CLOSE_X, 100 + i, 7).i64(0).i64(3 + i as i64).finish();
        w.write_event(0, &RawEvent::parse(&ev, 0).unwrap()).unwrap();
    }
    w.finish().unwrap()
}

/// Offsets of the blocks of a capture.
fn block_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        out.push(at);
        at += u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    out
}

/// Reads until the end or the first error; returns the records read and the error.
fn read_until_error(bytes: Vec<u8>, opts: ReaderOptions) -> (Vec<Owned>, Option<ScapError>) {
    let mut r = match ScapReader::with_options(Cursor::new(bytes), opts) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push(Owned::from_record(&rec)),
            Ok(None) => return (out, None),
            Err(e) => {
                // After an error the reader stays at its end.
                assert!(matches!(r.next_record(), Ok(None)));
                return (out, Some(e));
            }
        }
    }
}

fn read_err(bytes: Vec<u8>) -> (Vec<Owned>, ScapError) {
    let (recs, err) = read_until_error(bytes, ReaderOptions::default());
    (recs, err.expect("an error"))
}

#[test]
fn the_intact_capture_reads_completely() {
    let (recs, err) = read_until_error(capture(), ReaderOptions::default());
    assert!(err.is_none());
    assert_eq!(recs.len(), 1 + 1 + 3);
}

#[test]
fn bad_magic_is_not_a_capture() {
    let mut b = capture();
    b[8] ^= 0xff;
    let (recs, e) = read_err(b);
    assert!(recs.is_empty());
    assert!(matches!(e, ScapError::NotScap { offset: 8, .. }), "{e}");
}

#[test]
fn other_files_and_empty_input_are_not_captures() {
    let (_, e) = read_err(b"GIF89a this is not a capture at all".to_vec());
    assert!(matches!(e, ScapError::NotScap { offset: 0, .. }), "{e}");
    let (_, e) = read_err(Vec::new());
    assert!(matches!(e, ScapError::NotScap { offset: 0, .. }), "{e}");
}

#[test]
fn unsupported_major_version_is_refused() {
    let mut b = capture();
    b[12] = 2;
    let (_, e) = read_err(b);
    assert!(matches!(e, ScapError::UnsupportedVersion { major: 2, .. }), "{e}");
}

#[test]
fn huge_block_length_is_an_error_at_the_block_not_an_allocation() {
    let mut b = capture();
    let third = block_offsets(&b)[3];
    b[third + 4..third + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let (recs, e) = read_err(b);
    assert_eq!(recs.len(), 3, "section, threads and the first event are kept");
    match e {
        ScapError::BadBlockLength { offset, len, .. } => {
            assert_eq!(offset, third as u64);
            assert_eq!(len, 0xffff_fff0);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn block_length_limit_is_configurable() {
    let b = capture();
    let (_, e) = read_until_error(
        b,
        ReaderOptions {
            max_block_len: 40,
            ..ReaderOptions::default()
        },
    );
    assert!(matches!(e, Some(ScapError::BadBlockLength { .. })));
}

#[test]
fn block_shorter_than_its_framing_is_an_error() {
    let mut b = capture();
    let second = block_offsets(&b)[1];
    b[second + 4..second + 8].copy_from_slice(&4u32.to_le_bytes());
    let (_, e) = read_err(b);
    assert!(
        matches!(e, ScapError::BadBlockLength { offset, len: 4, .. } if offset == second as u64),
        "{e}"
    );
}

#[test]
fn truncated_block_keeps_what_came_before() {
    let b = capture();
    let last = *block_offsets(&b).last().unwrap();
    let cut = b[..last + 20].to_vec();
    let (recs, e) = read_err(cut);
    assert_eq!(recs.len(), 4);
    match e {
        ScapError::Truncated {
            offset,
            what,
            need,
            have,
        } => {
            assert_eq!(offset, last as u64);
            assert_eq!(what, "block");
            assert_eq!(have, 20);
            assert!(need > have);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn truncated_block_header_is_reported() {
    let b = capture();
    let last = *block_offsets(&b).last().unwrap();
    let (recs, e) = read_err(b[..last + 3].to_vec());
    assert_eq!(recs.len(), 4);
    assert!(
        matches!(e, ScapError::Truncated { offset, what: "block header", have: 3, .. } if offset == last as u64),
        "{e}"
    );
}

#[test]
fn truncated_gzip_capture_keeps_what_came_before() {
    let b = capture();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&b).unwrap();
    let z = gz.finish().unwrap();
    let (recs, e) = read_err(z[..z.len() - 30].to_vec());
    assert!(recs.len() < 5);
    assert!(matches!(e, ScapError::Truncated { .. }), "{e}");
}

#[test]
fn event_length_beyond_its_block_is_an_event_error() {
    let mut b = capture();
    let second_event = block_offsets(&b)[3];
    let ev_at = second_event + 8 + 2; // block header, cpu id
    b[ev_at + 16..ev_at + 20].copy_from_slice(&5000u32.to_le_bytes());
    let (recs, e) = read_err(b);
    assert_eq!(recs.len(), 3);
    assert!(
        matches!(e, ScapError::Event { offset, .. } if offset == ev_at as u64),
        "{e}"
    );
}

#[test]
fn parameter_lengths_beyond_the_event_are_an_event_error() {
    let mut b = capture();
    let first_event = block_offsets(&b)[2];
    let lens_at = first_event + 8 + 2 + 26;
    b[lens_at..lens_at + 2].copy_from_slice(&900u16.to_le_bytes());
    let (_, e) = read_err(b);
    assert!(matches!(e, ScapError::Event { .. }), "{e}");
}

#[test]
fn state_block_with_wrong_trailer_is_reported() {
    let mut b = capture();
    let offs = block_offsets(&b);
    let (pl, next) = (offs[1], offs[2]);
    b[next - 4..next].copy_from_slice(&1u32.to_le_bytes());
    let (_, e) = read_err(b);
    assert!(
        matches!(e, ScapError::BadBlockLength { offset, .. } if offset == pl as u64),
        "{e}"
    );
}

#[test]
fn corrupt_process_list_names_the_offset_inside_the_block() {
    let mut b = capture();
    let pl = block_offsets(&b)[1];
    // The entry length sits first in a v9 entry: claim fewer bytes than the fixed fields need.
    b[pl + 8..pl + 12].copy_from_slice(&10u32.to_le_bytes());
    let (_, e) = read_err(b);
    match e {
        ScapError::Corrupt { offset, what, .. } => {
            assert_eq!(what, "process list");
            assert!(offset >= pl as u64 + 8);
        }
        other => panic!("{other}"),
    }
}

/// Frames a block by hand.
fn block(btype: u32, body: &[u8]) -> Vec<u8> {
    let total = ((8 + body.len() + 3) & !3) + 4;
    let mut b = Vec::new();
    b.extend_from_slice(&btype.to_le_bytes());
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b.extend_from_slice(body);
    b.resize(total - 4, 0);
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b
}

fn section_header() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&u64::MAX.to_le_bytes());
    block(0x0A0D_0D0A, &body)
}

/// A legacy (V1) event: 22-byte header, no parameter count.
fn v1_event(etype: u16, ts: u64, tid: u64, params: &[&[u8]]) -> Vec<u8> {
    let data: usize = params.iter().map(|p| p.len()).sum();
    let len = 22 + 2 * params.len() + data;
    let mut e = Vec::new();
    e.extend_from_slice(&ts.to_le_bytes());
    e.extend_from_slice(&tid.to_le_bytes());
    e.extend_from_slice(&(len as u32).to_le_bytes());
    e.extend_from_slice(&etype.to_le_bytes());
    for p in params {
        e.extend_from_slice(&(p.len() as u16).to_le_bytes());
    }
    for p in params {
        e.extend_from_slice(p);
    }
    e
}

fn ev_block(btype: u32, cpu: u16, flags: Option<u32>, event: &[u8]) -> Vec<u8> {
    let mut body = cpu.to_le_bytes().to_vec();
    if let Some(f) = flags {
        body.extend_from_slice(&f.to_le_bytes());
    }
    body.extend_from_slice(event);
    block(btype, &body)
}

#[test]
fn legacy_blocks_unknown_blocks_and_unknown_event_types() {
    let mut f = section_header();
    f.extend(block(0x7777, b"some future block"));
    // Legacy numbering (0x8010ABCD) of an EV block: close enter and an old one-parameter close exit.
    f.extend(ev_block(
        0x8010_ABCD,
        1,
        None,
        &v1_event(CLOSE_E, 10, 5, &[&3i64.to_le_bytes()]),
    ));
    f.extend(ev_block(
        0x208,
        2,
        Some(9),
        &v1_event(CLOSE_X, 11, 5, &[&0i64.to_le_bytes()]),
    ));
    // A V2 event of a type beyond the table.
    let mut future = EventBuilder::new(CLOSE_X, 12, 5).i64(0).i64(3).finish();
    future[20..22].copy_from_slice(&PPM_EVENT_MAX.to_le_bytes());
    f.extend(ev_block(0x216, 0, None, &future));

    // Unconverted: both legacy events, the exit with the single parameter it was written with.
    let mut r = ScapReader::with_options(
        Cursor::new(f.clone()),
        ReaderOptions {
            convert_old: false,
            ..ReaderOptions::default()
        },
    )
    .unwrap();
    let mut seen = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        if let Record::Event { cpu, flags, event } = rec {
            seen.push((cpu, flags, event.etype, event.nparams()));
        }
    }
    assert_eq!(seen, vec![(1, None, CLOSE_E, 1), (2, Some(9), CLOSE_X, 1)]);
    let stats = r.stats();
    assert_eq!((stats.unknown_blocks, stats.unknown_event_types), (1, 1));

    // Converted: the enter event is gone and the exit carries the fd it recorded.
    let mut r = ScapReader::new(Cursor::new(f)).unwrap();
    let mut exits = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        if let Record::Event { event, .. } = rec {
            exits.push((event.etype, event.nparams(), event.param_i64(1)));
        }
    }
    assert_eq!(exits, vec![(CLOSE_X, 2, Some(3))]);
}

#[test]
fn fuzz_harness_survives_truncations_of_a_sample_at_many_offsets() {
    let path = common::sample("test_ipv6_client.scap");
    let (records, _) = common::read_all(&path, false);
    let mut w = ScapWriter::new(
        Vec::new(),
        WriterOptions {
            gzip: false,
            compat: Compat::Current,
        },
    )
    .unwrap();
    for r in records.iter().take(80) {
        r.write_to(&mut w);
    }
    let bytes = w.finish().unwrap();
    for cut in (0..bytes.len()).step_by(61) {
        mamoru_scap::fuzzing::read_everything(&bytes[..cut]);
    }
}
