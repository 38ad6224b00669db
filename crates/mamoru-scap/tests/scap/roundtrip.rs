//! Read → write → read: mamoru reads back exactly what it wrote.

use crate::common;

use std::io::Cursor;

use common::{read_all, read_all_from, samples, Owned};
use mamoru_event::{FdInfo, FdRecord, GroupRecord, InterfaceRecord, RawEvent, ThreadRecord, UserRecord};
use mamoru_scap::{Compat, MachineInfo, ReaderOptions, Record, ScapReader, ScapWriter, WriterOptions};

fn write(records: &[Owned], opts: WriterOptions) -> Vec<u8> {
    let mut w = ScapWriter::new(Vec::new(), opts).unwrap();
    for r in records {
        r.write_to(&mut w);
    }
    w.finish().unwrap()
}

fn reread(bytes: &[u8], convert_old: bool) -> Vec<Owned> {
    let opts = ReaderOptions {
        convert_old,
        ..ReaderOptions::default()
    };
    read_all_from(ScapReader::with_options(Cursor::new(bytes.to_vec()), opts).unwrap()).0
}

/// Everything but the section header, which the writer always writes in the current format version.
fn body(recs: &[Owned]) -> &[Owned] {
    assert!(matches!(recs[0], Owned::Section(_)));
    &recs[1..]
}

#[test]
fn converted_samples_round_trip_for_every_writer_setting() {
    for path in samples() {
        let (original, _) = read_all(&path, true);
        for compat in [Compat::Sysdig029, Compat::Current] {
            for gzip in [false, true] {
                let bytes = write(&original, WriterOptions { gzip, compat });
                assert_eq!(bytes[..2] == [0x1f, 0x8b], gzip);
                let back = reread(&bytes, true);
                assert_eq!(
                    body(&back),
                    body(&original),
                    "{} with {compat:?}, gzip {gzip}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn raw_samples_round_trip_with_current_compat() {
    for path in samples() {
        let (original, _) = read_all(&path, false);
        let bytes = write(
            &original,
            WriterOptions {
                gzip: false,
                compat: Compat::Current,
            },
        );
        assert_eq!(body(&reread(&bytes, false)), body(&original), "{}", path.display());
    }
}

#[test]
fn sysdig_compat_only_adds_enter_events_to_raw_streams() {
    for path in samples() {
        let (original, _) = read_all(&path, false);
        let bytes = write(&original, WriterOptions::default());
        let back = reread(&bytes, false);
        // Dropping the re-created enter events gives the original stream back.
        let mut it = body(&back).iter().peekable();
        for want in body(&original) {
            loop {
                let got = it
                    .next()
                    .unwrap_or_else(|| panic!("{}: stream ended early", path.display()));
                if got == want {
                    break;
                }
                let ev = got.event().expect("only events are added");
                assert_eq!(
                    ev.info().dir,
                    mamoru_event::Direction::Enter,
                    "{}: {ev:?}",
                    path.display()
                );
            }
        }
    }
}

fn thread(tid: i64) -> ThreadRecord {
    ThreadRecord {
        tid,
        pid: tid,
        ptid: 1,
        sid: tid,
        vpgid: tid,
        pgid: tid,
        comm: b"cat".to_vec(),
        exe: b"cat".to_vec(),
        exepath: b"/usr/bin/cat".to_vec(),
        args: vec![b"/etc/passwd".to_vec()],
        env: vec![b"PATH=/usr/bin".to_vec()],
        cwd: b"/root/".to_vec(),
        fdlimit: 1024,
        loginuid: 1000,
        vtid: tid,
        vpid: tid,
        cgroups: vec![(b"cpu".to_vec(), b"/".to_vec())],
        root: b"/".to_vec(),
        tty: 34817,
        exe_ino: 5,
        fds: vec![
            FdRecord {
                fd: 0,
                ino: 0,
                info: FdInfo::Fifo {
                    path: b"pipe:[7]".to_vec(),
                },
            },
            FdRecord {
                fd: 3,
                ino: 9,
                info: FdInfo::File {
                    path: b"/etc/passwd".to_vec(),
                    flags: 0,
                    dev: 0x803,
                    ino: 9,
                },
            },
        ],
        ..ThreadRecord::default()
    }
}

#[test]
fn state_written_by_hand_reads_back_field_for_field() {
    let mi = MachineInfo {
        num_cpus: 2,
        memory_size_bytes: 1 << 30,
        max_pid: 32768,
        hostname: b"host".to_vec(),
        boot_ts_epoch: Some(17),
        flags: 0,
    };
    let ifs = vec![InterfaceRecord {
        name: b"eth0".to_vec(),
        addr: "10.1.2.3".parse().unwrap(),
        netmask: "255.255.0.0".parse().unwrap(),
    }];
    let users = vec![UserRecord {
        uid: 1000,
        gid: 1000,
        name: b"me".to_vec(),
        home: b"/home/me".to_vec(),
        shell: b"/bin/sh".to_vec(),
        container_id: Vec::new(),
    }];
    let groups = vec![GroupRecord {
        gid: 1000,
        name: b"me".to_vec(),
        container_id: Vec::new(),
    }];
    let threads = vec![thread(100), thread(101)];
    let mut w = ScapWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    w.write_machine_info(&mi).unwrap();
    w.write_interfaces(&ifs).unwrap();
    w.write_users(&users, &groups).unwrap();
    w.write_threads(&threads).unwrap();
    let bytes = w.finish().unwrap();

    let mut r = ScapReader::new(Cursor::new(bytes)).unwrap();
    let mut seen_fds = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        match rec {
            Record::Section(s) => assert_eq!((s.major, s.minor), (1, 2)),
            Record::MachineInfo(m) => assert_eq!(m, mi),
            Record::Interfaces(i) => assert_eq!(i, ifs),
            Record::Users(u) => assert_eq!((u.users, u.groups), (users.clone(), groups.clone())),
            Record::Threads(t) => {
                let without_fds: Vec<ThreadRecord> = threads
                    .iter()
                    .map(|t| ThreadRecord {
                        fds: Vec::new(),
                        ..t.clone()
                    })
                    .collect();
                assert_eq!(t, without_fds);
            }
            Record::Fds { tid, fds } => seen_fds.push((tid, fds)),
            Record::Event { .. } => panic!("no events were written"),
        }
    }
    assert_eq!(seen_fds, vec![(100, thread(100).fds), (101, thread(101).fds)]);
}

#[test]
fn events_keep_cpu_and_flags() {
    let ev = mamoru_event::EventBuilder::new(5, 10, 20).i64(0).i64(3).finish(); // close exit
    let raw = RawEvent::parse(&ev, 3).unwrap();
    let mut w = ScapWriter::new(
        Vec::new(),
        WriterOptions {
            gzip: false,
            compat: Compat::Current,
        },
    )
    .unwrap();
    w.write_event(3, &raw).unwrap();
    w.write_event_with_flags(1, Some(0xabc), &raw).unwrap();
    let back = reread(&w.finish().unwrap(), true);
    assert_eq!(
        back[1..],
        [
            Owned::Event {
                cpu: 3,
                flags: None,
                bytes: ev.clone()
            },
            Owned::Event {
                cpu: 1,
                flags: Some(0xabc),
                bytes: ev
            }
        ]
    );
}

#[test]
fn fd_list_of_an_unknown_thread_is_refused_for_sysdig() {
    let fds = thread(5).fds;
    let mut w = ScapWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    assert!(matches!(
        w.write_fds(5, &fds),
        Err(mamoru_scap::ScapError::Write { what: "fd list", .. })
    ));
    w.write_threads(&[ThreadRecord {
        fds: Vec::new(),
        ..thread(5)
    }])
    .unwrap();
    w.write_fds(5, &fds).unwrap();
    let mut current = ScapWriter::new(
        Vec::new(),
        WriterOptions {
            gzip: false,
            compat: Compat::Current,
        },
    )
    .unwrap();
    current.write_fds(5, &fds).unwrap();
}
