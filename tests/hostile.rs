//! Hostile inputs: every one must give an `Err` of the expected *variant* (never a panic, never a
//! large allocation), with a message that names the file and says `at byte N`.
//!
//! Inputs are made by editing fixture bytes in memory, boxes being located by the small walker
//! below. The table in `docs/ERRORS.md` lists the messages these cases give; print them with
//! `HOSTILE_PRINT=1 cargo test --test hostile -- --nocapture table`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use seam::error::DemuxError;
use seam::model::Media;
use seam::source::{MemSource, Source};
use seam::Limits;

// ---------------------------------------------------------------------------------------------
// Allocation watch: the largest single allocation each thread asked for since it last reset it.
// A count taken from the file and trusted would show up here as one huge request, so the tests can
// assert "error without allocating" instead of waiting for the machine to run out of memory.
// ---------------------------------------------------------------------------------------------

struct Watch;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // try_with: the thread-local may be gone while a thread exits.
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size)
        }
    });
}

unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static WATCH: Watch = Watch;

/// No hostile input may make the demuxer ask for more than this in one allocation (the inputs are
/// at most a few hundred kilobytes; a real 24-hour recording needs more, but not these files).
const MAX_ALLOCATION: usize = 4 << 20;

// ---------------------------------------------------------------------------------------------
// Box walker and editors.
// ---------------------------------------------------------------------------------------------

/// One box of a file: path such as `moov/trak[1]/mdia/minf/stbl/stsz` (`trak`, `moof`, `traf` and
/// `trun` are indexed; other names are unique where seam looks), offsets and header length.
#[derive(Debug, Clone)]
struct Bx {
    path: String,
    start: usize,
    header: usize,
    end: usize,
}

impl Bx {
    fn body(&self) -> usize {
        self.start + self.header
    }
}

const CONTAINERS: [&[u8; 4]; 11] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf",
    b"udta",
];

fn walk_into(data: &[u8], start: usize, end: usize, prefix: &str, out: &mut Vec<Bx>) {
    let mut pos = start;
    let mut seen: Vec<[u8; 4]> = Vec::new();
    while pos + 8 <= end {
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = data[pos + 4..pos + 8].try_into().unwrap();
        let (size, header) = match size {
            0 => (end - pos, 8),
            1 => (
                u64::from_be_bytes(data[pos + 8..pos + 16].try_into().unwrap()) as usize,
                16,
            ),
            n => (n, 8),
        };
        if size < header || pos + size > end {
            return;
        }
        let name = String::from_utf8_lossy(&kind).to_string();
        let index = seen.iter().filter(|k| **k == kind).count();
        seen.push(kind);
        let name = if [b"trak", b"moof", b"traf", b"trun"].contains(&&kind) {
            format!("{name}[{index}]")
        } else {
            name
        };
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let b = Bx {
            path: path.clone(),
            start: pos,
            header,
            end: pos + size,
        };
        out.push(b.clone());
        pos = b.end;
        if CONTAINERS.contains(&&kind) {
            walk_into(data, b.body(), b.end, &path, out);
        } else if &kind == b"stsd" {
            walk_into(data, b.body() + 8, b.end, &path, out);
        } else if &kind == b"avc1" {
            walk_into(data, b.body() + 78, b.end, &path, out);
        } else if &kind == b"mp4a" {
            walk_into(data, b.body() + 28, b.end, &path, out);
        }
    }
}

/// Every box of `data`, depth first.
fn walk(data: &[u8]) -> Vec<Bx> {
    let mut out = Vec::new();
    walk_into(data, 0, data.len(), "", &mut out);
    out
}

/// The box at `path`; panics when there is none (the fixture changed).
fn find(data: &[u8], path: &str) -> Bx {
    walk(data)
        .into_iter()
        .find(|b| b.path == path)
        .unwrap_or_else(|| panic!("no box {path}"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn put_u32(data: &mut [u8], at: usize, v: u32) {
    data[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn get_u32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap())
}

/// A copy of `data` with the u32 at `offset` bytes into the body of `path` set to `v`.
fn set_field(data: &[u8], path: &str, offset: usize, v: u32) -> Vec<u8> {
    let mut d = data.to_vec();
    let b = find(data, path);
    put_u32(&mut d, b.body() + offset, v);
    d
}

/// A copy of `data` with `bytes` inserted at the end of the box `path`, the sizes of it and its
/// ancestors grown to match (all must have 32-bit sizes).
fn append_into(data: &[u8], path: &str, bytes: &[u8]) -> Vec<u8> {
    let target = find(data, path);
    let mut d = data.to_vec();
    let boxes = walk(data);
    let mut prefix = String::new();
    for part in path.split('/') {
        prefix = if prefix.is_empty() {
            part.to_string()
        } else {
            format!("{prefix}/{part}")
        };
        let b = boxes.iter().find(|b| b.path == prefix).unwrap();
        let size = get_u32(&d, b.start);
        put_u32(&mut d, b.start, size + bytes.len() as u32);
    }
    d.splice(target.end..target.end, bytes.iter().copied());
    d
}

/// A box of `kind` holding `body`.
fn mkbox(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// `depth` empty-bodied boxes of `kind`, each inside the previous one.
fn nest(kind: &[u8; 4], depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * depth);
    for i in 0..depth {
        out.extend_from_slice(&((8 * (depth - i)) as u32).to_be_bytes());
        out.extend_from_slice(kind);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Ok,
    Malformed,
    Unsupported,
    Limit,
}

struct Case {
    name: String,
    data: Vec<u8>,
    limits: Limits,
    want: Want,
}

fn case(name: impl Into<String>, data: Vec<u8>, want: Want) -> Case {
    Case {
        name: name.into(),
        data,
        limits: Limits::default(),
        want,
    }
}

fn with_limits(name: impl Into<String>, data: Vec<u8>, limits: Limits, want: Want) -> Case {
    Case {
        name: name.into(),
        data,
        limits,
        want,
    }
}

const VIDEO_STBL: &str = "moov/trak[0]/mdia/minf/stbl";
const AUDIO_STBL: &str = "moov/trak[1]/mdia/minf/stbl";

fn cases() -> Vec<Case> {
    let a = fixture("a.mp4");
    let frag = fixture("frag.mp4");
    let last = fixture("moov_last.mp4");
    let moov = find(&a, "moov");
    let mut v = Vec::new();

    // Empty, garbage, missing boxes.
    v.push(case("zero bytes", Vec::new(), Want::Malformed));
    let mut g = b"GARBAGE!GARBAGE!".to_vec();
    g.extend_from_slice(&a);
    v.push(case("16 bytes of text before a.mp4", g, Want::Unsupported));
    let mut g = mkbox(b"free", &[]);
    g[..4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    g.extend_from_slice(&a);
    v.push(case(
        "box header claiming 2 GB ('free' size 0x7fffffff) before a.mp4",
        g,
        Want::Malformed,
    ));
    let mdat = find(&a, "mdat");
    v.push(case(
        "mdat only (a.mp4's mdat box alone)",
        a[mdat.start..mdat.end].to_vec(),
        Want::Malformed,
    ));
    let mut no_moov = a[..moov.start].to_vec();
    no_moov.extend_from_slice(&a[moov.end..]);
    v.push(case(
        "a.mp4 without its moov (ftyp, free, mdat)",
        no_moov,
        Want::Malformed,
    ));
    let mut tail = a.clone();
    tail.extend_from_slice(b"xyz");
    v.push(case("a.mp4 plus 3 trailing bytes", tail, Want::Malformed));

    // Size fields of moov.
    let mut d = a.clone();
    put_u32(&mut d, moov.start, 0);
    v.push(case(
        "moov size field 0 (to end of file: mdat becomes a child of moov)",
        d,
        Want::Ok,
    ));
    for (size, want) in [
        (1u32, Want::Malformed),
        (2, Want::Malformed),
        (7, Want::Malformed),
    ] {
        let mut d = a.clone();
        put_u32(&mut d, moov.start, size);
        v.push(case(format!("moov size field {size}"), d, want));
    }
    let mut d = a.clone();
    put_u32(&mut d, moov.start, 0xffff_ffff);
    v.push(case("moov size field 2^32-1", d, Want::Malformed));
    let mut d = a.clone();
    put_u32(&mut d, moov.start, 1);
    d[moov.start + 8..moov.start + 16].copy_from_slice(&u64::MAX.to_be_bytes());
    v.push(case("moov 64-bit size 2^64-1", d, Want::Malformed));
    let mut d = a.clone();
    put_u32(&mut d, moov.start, 1);
    d[moov.start + 8..moov.start + 16].copy_from_slice(&8u64.to_be_bytes());
    v.push(case(
        "moov 64-bit size 8 (below its 16-byte header)",
        d,
        Want::Malformed,
    ));
    let mvhd = find(&a, "moov/mvhd");
    let mut d = a.clone();
    put_u32(&mut d, mvhd.start, 0xffff);
    v.push(case("mvhd size larger than moov", d, Want::Malformed));
    let mut d = a.clone();
    d[mvhd.start + 4..mvhd.start + 8].copy_from_slice(b"uuid");
    put_u32(&mut d, mvhd.start, 20);
    v.push(case(
        "uuid box of 20 bytes (below its 24-byte header)",
        d,
        Want::Malformed,
    ));

    // Movie and track headers.
    let mut d = a.clone();
    d[mvhd.start + 4..mvhd.start + 8].copy_from_slice(b"xxxx");
    v.push(case("moov without mvhd", d, Want::Malformed));
    v.push(case(
        "mvhd timescale 0",
        set_field(&a, "moov/mvhd", 12, 0),
        Want::Malformed,
    ));
    v.push(case(
        "mdhd timescale 0",
        set_field(&a, "moov/trak[0]/mdia/mdhd", 12, 0),
        Want::Malformed,
    ));
    let mut d = a.clone();
    let tkhd = find(&a, "moov/trak[0]/tkhd");
    d[tkhd.start + 4..tkhd.start + 8].copy_from_slice(b"xxxx");
    v.push(case("trak without tkhd", d, Want::Malformed));
    v.push(case(
        "mvhd cut to 12 bytes",
        {
            let mut d = a.clone();
            let hole = mvhd.end - (mvhd.start + 12);
            put_u32(&mut d, mvhd.start, 12);
            // The rest of the old mvhd becomes a 'free' box so moov stays consistent.
            put_u32(&mut d, mvhd.start + 12, hole as u32);
            d[mvhd.start + 16..mvhd.start + 20].copy_from_slice(b"free");
            d
        },
        Want::Malformed,
    ));
    v.push(case(
        "elst with 2^32-1 entries",
        set_field(&a, "moov/trak[0]/edts/elst", 4, u32::MAX),
        Want::Limit,
    ));
    v.push(case(
        "elst with 4000 entries (within the limit, beyond the box)",
        set_field(&a, "moov/trak[0]/edts/elst", 4, 4000),
        Want::Malformed,
    ));
    v.push(case(
        "elst media_time -2",
        set_field(&a, "moov/trak[0]/edts/elst", 12, (-2i32) as u32),
        Want::Malformed,
    ));

    // Sample table counts.
    let stts = format!("{VIDEO_STBL}/stts");
    v.push(case(
        "stts covers 49 of 50 samples",
        set_field(&a, &stts, 8, 49),
        Want::Malformed,
    ));
    v.push(case(
        "stts covers 51 of 50 samples",
        set_field(&a, &stts, 8, 51),
        Want::Malformed,
    ));
    v.push(case(
        "stts entry count 2^32-1",
        set_field(&a, &stts, 4, u32::MAX),
        Want::Malformed,
    ));
    let ctts = format!("{VIDEO_STBL}/ctts");
    v.push(case(
        "ctts covers 51 of 50 samples (first entry count 1 -> 2)",
        set_field(&a, &ctts, 8, 2),
        Want::Malformed,
    ));
    v.push(case(
        "ctts entry count one less (covers 49 of 50)",
        {
            let b = find(&a, &ctts);
            let n = get_u32(&a, b.body() + 4);
            set_field(&a, &ctts, 4, n - 1)
        },
        Want::Malformed,
    ));
    let stsz = format!("{VIDEO_STBL}/stsz");
    v.push(case(
        "stsz sample 1 size 0xfffffff0 (past the end of the file)",
        set_field(&a, &stsz, 12, 0xffff_fff0),
        Want::Malformed,
    ));
    v.push(case(
        "stsz count 2^32-1 with constant size 1",
        {
            let d = set_field(&a, &stsz, 4, 1);
            set_field(&d, &stsz, 8, u32::MAX)
        },
        Want::Limit,
    ));
    v.push(case(
        "stsz count 16,000,000 (at the limit) with constant size 1",
        {
            let d = set_field(&a, &stsz, 4, 1);
            set_field(&d, &stsz, 8, 16_000_000)
        },
        Want::Malformed,
    ));
    v.push(case(
        "stsz count 2^32-1 with a size table",
        set_field(&a, &stsz, 8, u32::MAX),
        Want::Limit,
    ));
    v.push(case(
        "stsz count 9,000,000 with a size table (36 MB of entries in a 220-byte box)",
        set_field(&a, &stsz, 8, 9_000_000),
        Want::Malformed,
    ));
    v.push(case(
        "stsz renamed stz2 (field_size 0)",
        {
            let mut d = a.clone();
            let b = find(&a, &stsz);
            d[b.start + 4..b.start + 8].copy_from_slice(b"stz2");
            d
        },
        Want::Malformed,
    ));
    let stco = format!("{VIDEO_STBL}/stco");
    v.push(case(
        "stco first chunk offset 0xffffff00 (past the end of the file)",
        set_field(&a, &stco, 8, 0xffff_ff00),
        Want::Malformed,
    ));
    v.push(case(
        "stco entry count 2^32-1",
        set_field(&a, &stco, 4, u32::MAX),
        Want::Limit,
    ));
    v.push(case(
        "stco with one chunk fewer than stsc needs",
        {
            let b = find(&a, &stco);
            let n = get_u32(&a, b.body() + 4);
            set_field(&a, &stco, 4, n - 1)
        },
        Want::Malformed,
    ));
    let stsc = format!("{VIDEO_STBL}/stsc");
    v.push(case(
        "stsc first_chunk 0",
        set_field(&a, &stsc, 8, 0),
        Want::Malformed,
    ));
    v.push(case(
        "stsc samples_per_chunk 1000",
        set_field(&a, &stsc, 12, 1000),
        Want::Malformed,
    ));
    v.push(case(
        "stsc sample_description_index 2 (stsd has 1)",
        set_field(&a, &stsc, 16, 2),
        Want::Malformed,
    ));
    v.push(case(
        "stsc sample_description_index 0",
        set_field(&a, &stsc, 16, 0),
        Want::Malformed,
    ));
    v.push(case(
        "stss sync sample 51 of 50",
        set_field(&a, &format!("{VIDEO_STBL}/stss"), 8, 51),
        Want::Malformed,
    ));
    v.push(case(
        "stss sync sample 0",
        set_field(&a, &format!("{VIDEO_STBL}/stss"), 8, 0),
        Want::Malformed,
    ));
    v.push(case(
        "stbl with samples but no stts",
        {
            let mut d = a.clone();
            let b = find(&a, &stts);
            d[b.start + 4..b.start + 8].copy_from_slice(b"xxxx");
            d
        },
        Want::Malformed,
    ));

    // Sample descriptions and codec configuration.
    let stsd = format!("{VIDEO_STBL}/stsd");
    v.push(case(
        "stsd entry count 2^32-1",
        set_field(&a, &stsd, 4, u32::MAX),
        Want::Limit,
    ));
    v.push(case(
        "stsd says 2 entries, holds 1",
        set_field(&a, &stsd, 4, 2),
        Want::Malformed,
    ));
    v.push(case(
        "avcC configurationVersion 0",
        {
            let mut d = a.clone();
            let b = find(&a, &format!("{stsd}/avc1/avcC"));
            d[b.body()] = 0;
            d
        },
        Want::Malformed,
    ));
    v.push(case(
        "avcC lengthSizeMinusOne 2",
        {
            let mut d = a.clone();
            let b = find(&a, &format!("{stsd}/avc1/avcC"));
            d[b.body() + 4] = 0xfe;
            d
        },
        Want::Malformed,
    ));
    v.push(case(
        "avc1 without avcC",
        {
            let mut d = a.clone();
            let b = find(&a, &format!("{stsd}/avc1/avcC"));
            d[b.start + 4..b.start + 8].copy_from_slice(b"xxxx");
            d
        },
        Want::Malformed,
    ));
    let esds = find(&a, &format!("{AUDIO_STBL}/stsd/mp4a/esds"));
    v.push(case(
        "esds DecoderSpecificInfo with audio object type 42 (USAC)",
        {
            // a.mp4's ASC is 11 90 (+ 56 e5 00): 5 bits of object type 2. Make it 31+escape.
            let mut d = a.clone();
            let asc = (esds.body()..esds.end)
                .find(|&i| d[i..i + 4] == [0x11, 0x90, 0x56, 0xe5])
                .expect("AudioSpecificConfig");
            // object type 31 (escape) + 6 bits 10 (= 42), frequency index 3, channels 2.
            d[asc] = 0b1111_1001;
            d[asc + 1] = 0b0100_0110;
            d[asc + 2] = 0b0100_0000;
            d
        },
        Want::Unsupported,
    ));
    v.push(case(
        "esds descriptor length past its box",
        {
            let mut d = a.clone();
            d[esds.body() + 5] = 0x7f;
            d
        },
        Want::Malformed,
    ));
    v.push(case(
        "mp4a sound description version 3",
        {
            let mut d = a.clone();
            let b = find(&a, &format!("{AUDIO_STBL}/stsd/mp4a"));
            d[b.body() + 8..b.body() + 10].copy_from_slice(&3u16.to_be_bytes());
            d
        },
        Want::Unsupported,
    ));
    v.push(case(
        "dref entry without the self-contained flag (external data)",
        {
            let mut d = a.clone();
            let b = find(&a, "moov/trak[0]/mdia/minf/dinf/dref");
            // dref body: version/flags, entry count, then the first entry box (its flags at +8+8).
            d[b.body() + 8 + 8 + 3] = 0;
            d
        },
        Want::Unsupported,
    ));

    // Structure and limits.
    let mut d = a.clone();
    d.extend_from_slice(&a[moov.start..moov.end]);
    v.push(case("second moov box", d, Want::Malformed));
    let nested = nest(b"udta", 100_000);
    v.push(case(
        "moov holding a 100,000-deep nest of udta boxes (moov_last.mp4)",
        append_into(&last, "moov", &nested),
        Want::Ok,
    ));
    v.push(case(
        "a file that is 100,000 moov boxes nested in each other",
        nest(b"moov", 100_000),
        Want::Malformed,
    ));
    let nested = nest(b"trak", 10_000);
    v.push(case(
        "moov holding a 10,000-deep nest of trak boxes (moov_last.mp4)",
        append_into(&last, "moov", &nested),
        Want::Malformed,
    ));
    let trak = find(&last, "moov/trak[0]");
    let traks: Vec<u8> = (0..64)
        .flat_map(|_| last[trak.start..trak.end].iter().copied())
        .collect();
    v.push(case(
        "66 trak boxes (moov_last.mp4 plus 64 copies of its video trak)",
        append_into(&last, "moov", &traks),
        Want::Limit,
    ));
    v.push(with_limits(
        "a.mp4 with Limits::max_tracks = 1",
        a.clone(),
        Limits {
            max_tracks: 1,
            ..Limits::default()
        },
        Want::Limit,
    ));
    v.push(with_limits(
        "a.mp4 with Limits::max_box_size = 1000 (moov is 2774)",
        a.clone(),
        Limits {
            max_box_size: 1000,
            ..Limits::default()
        },
        Want::Limit,
    ));
    v.push(with_limits(
        "a.mp4 with Limits::max_samples = 10",
        a.clone(),
        Limits {
            max_samples: 10,
            ..Limits::default()
        },
        Want::Limit,
    ));

    // Fragments.
    let trun = find(&frag, "moof[0]/traf[0]/trun[0]");
    v.push(case(
        "trun sample_count 2^32-1",
        set_field(&frag, &trun.path, 4, u32::MAX),
        Want::Malformed,
    ));
    v.push(case(
        "trun sample_count 2^32-1 and no per-sample fields",
        {
            let d = set_field(&frag, &trun.path, 0, 0x0000_0001);
            set_field(&d, &trun.path, 4, u32::MAX)
        },
        Want::Malformed,
    ));
    v.push(with_limits(
        "trun sample_count 20,000 and no per-sample fields, Limits::max_samples = 10,000",
        {
            let d = set_field(&frag, &trun.path, 0, 0x0000_0001);
            set_field(&d, &trun.path, 4, 20_000)
        },
        Limits {
            max_samples: 10_000,
            ..Limits::default()
        },
        Want::Limit,
    ));
    v.push(case(
        "trun sample 1 size 0xffffff00",
        set_field(&frag, &trun.path, 12 + 4, 0xffff_ff00),
        Want::Malformed,
    ));
    v.push(case(
        "trun data_offset -2^31 (before the file)",
        set_field(&frag, &trun.path, 8, 0x8000_0000),
        Want::Malformed,
    ));
    v.push(case(
        "tfhd track_ID 9 (not in moov)",
        set_field(&frag, "moof[0]/traf[0]/tfhd", 4, 9),
        Want::Malformed,
    ));
    v.push(case(
        "tfhd sample_description_index 0",
        {
            // flags 0x020038 (no sdi field): add sdi-present (0x2) by reusing default_duration.
            let d = set_field(&frag, "moof[0]/traf[0]/tfhd", 0, 0x0002_0032);
            set_field(&d, "moof[0]/traf[0]/tfhd", 8, 0)
        },
        Want::Malformed,
    ));
    v.push(case(
        "tfdt v1 baseMediaDecodeTime 2^64-1",
        {
            let d = set_field(&frag, "moof[0]/traf[0]/tfdt", 4, u32::MAX);
            set_field(&d, "moof[0]/traf[0]/tfdt", 8, u32::MAX)
        },
        Want::Malformed,
    ));
    v.push(case(
        "tfdt v1 baseMediaDecodeTime 2^63-1 (decode time overflows)",
        {
            let d = set_field(&frag, "moof[0]/traf[0]/tfdt", 4, i32::MAX as u32);
            set_field(&d, "moof[0]/traf[0]/tfdt", 8, u32::MAX)
        },
        Want::Malformed,
    ));
    v.push(case(
        "traf without tfhd",
        {
            let mut d = frag.clone();
            let b = find(&frag, "moof[0]/traf[0]/tfhd");
            d[b.start + 4..b.start + 8].copy_from_slice(b"xxxx");
            d
        },
        Want::Malformed,
    ));
    let moof = find(&frag, "moof[0]");
    let mut d = a.clone();
    d.extend_from_slice(&frag[moof.start..moof.end]);
    v.push(case(
        "moof appended to a.mp4 (moov has no mvex)",
        d,
        Want::Malformed,
    ));
    let fmoov = find(&frag, "moov");
    let mut d = frag[..fmoov.start].to_vec();
    d.extend_from_slice(&frag[fmoov.end..]);
    d.extend_from_slice(&frag[fmoov.start..fmoov.end]);
    v.push(case(
        "frag.mp4 with its moov moved after the fragments",
        d,
        Want::Unsupported,
    ));
    v.push(with_limits(
        "frag.mp4 (5 moofs) with Limits::max_fragments = 2",
        frag.clone(),
        Limits {
            max_fragments: 2,
            ..Limits::default()
        },
        Want::Limit,
    ));
    v.push(with_limits(
        "mvex with 3 trex, Limits::max_tracks = 2",
        {
            let trex = find(&frag, "moov/mvex/trex");
            let extra = frag[trex.start..trex.end].to_vec();
            append_into(&frag, "moov/mvex", &extra)
        },
        Limits {
            max_tracks: 2,
            ..Limits::default()
        },
        Want::Limit,
    ));
    v
}

/// Demuxes `data` as `name`, recording the largest allocation made meanwhile.
fn demux(name: &str, data: Vec<u8>, limits: &Limits) -> (Result<Media, DemuxError>, usize) {
    let src: Arc<dyn Source> = Arc::new(MemSource::new(name, data));
    LARGEST.with(|l| l.set(0));
    let r = seam::demux::open(src, limits);
    (r, LARGEST.with(|l| l.get()))
}

fn variant(r: &Result<Media, DemuxError>) -> Want {
    match r {
        Ok(_) => Want::Ok,
        Err(DemuxError::Malformed { .. }) => Want::Malformed,
        Err(DemuxError::Unsupported { .. }) => Want::Unsupported,
        Err(DemuxError::LimitExceeded { .. }) => Want::Limit,
        Err(DemuxError::Io { .. }) => panic!("I/O error from bytes in memory: {r:?}"),
    }
}

#[test]
fn table() {
    let print = std::env::var_os("HOSTILE_PRINT").is_some();
    let mut failures = Vec::new();
    for c in cases() {
        let name = "hostile.mp4";
        let (r, largest) = demux(name, c.data, &c.limits);
        let got = variant(&r);
        let msg = match &r {
            Ok(m) => format!("Ok: {} tracks", m.tracks.len()),
            Err(e) => e.to_string(),
        };
        if print {
            println!("| {} | {:?} | `{}` |", c.name, got, msg.replace('|', "\\|"));
        }
        if got != c.want {
            failures.push(format!("{}: want {:?}, got {msg}", c.name, c.want));
        }
        if let Err(e) = &r {
            if !msg.contains(name) || !msg.contains("at byte") {
                failures.push(format!(
                    "{}: message lacks file or 'at byte': {msg}",
                    c.name
                ));
            }
            assert!(e.location().is_some());
        }
        if largest > MAX_ALLOCATION {
            failures.push(format!(
                "{}: allocated {largest} bytes at once ({msg})",
                c.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Cutting a.mp4 at the start or end of any top-level box or any box inside moov gives an error,
/// never a panic (the only cut that leaves a valid file is the end of the file).
#[test]
fn truncated_at_every_box_boundary() {
    let a = fixture("a.mp4");
    let mut cuts: Vec<usize> = walk(&a)
        .iter()
        .filter(|b| !b.path.contains('/') || b.path.starts_with("moov/"))
        .flat_map(|b| [b.start, b.start + b.header, b.end])
        .filter(|&c| c < a.len())
        .collect();
    cuts.sort();
    cuts.dedup();
    assert!(cuts.len() > 80, "{} cuts", cuts.len());
    for cut in cuts {
        let (r, largest) = demux("cut.mp4", a[..cut].to_vec(), &Limits::default());
        match r {
            Ok(_) => panic!("a.mp4 cut at {cut} demuxed"),
            Err(e) => {
                if std::env::var_os("HOSTILE_PRINT").is_some() {
                    println!("| {cut} | `{e}` |");
                }
                assert!(
                    matches!(e, DemuxError::Malformed { .. }),
                    "cut at {cut}: {e}"
                );
                let msg = e.to_string();
                assert!(msg.contains("cut.mp4") && msg.contains("at byte"), "{msg}");
            }
        }
        assert!(largest <= MAX_ALLOCATION, "cut at {cut}: {largest} bytes");
    }
}

/// Truncating a fragmented file between fragments leaves a valid (shorter) file; inside a fragment
/// it is an error.
#[test]
fn fragmented_truncation() {
    let frag = fixture("frag.mp4");
    let boxes = walk(&frag);
    let moof1 = boxes.iter().find(|b| b.path == "moof[1]").unwrap();
    let (r, _) = demux("cut.mp4", frag[..moof1.start].to_vec(), &Limits::default());
    let m = r.expect("cut between fragments");
    assert_eq!(m.tracks[0].samples.len(), 12);
    let (r, _) = demux(
        "cut.mp4",
        frag[..moof1.start - 1].to_vec(),
        &Limits::default(),
    );
    assert!(matches!(r, Err(DemuxError::Malformed { .. })), "{r:?}");
}

/// Every byte of a.mp4's moov flipped in turn: never a panic, and any error is located.
#[test]
fn every_moov_byte_flipped() {
    let a = fixture("a.mp4");
    let moov = find(&a, "moov");
    for i in moov.start..moov.end {
        let mut d = a.clone();
        d[i] ^= 0xff;
        let (r, largest) = demux("flip.mp4", d, &Limits::default());
        if let Err(e) = &r {
            let msg = e.to_string();
            assert!(msg.contains("flip.mp4") && msg.contains("at byte"), "{msg}");
            assert!(!matches!(e, DemuxError::Io { .. }), "byte {i}: {msg}");
        }
        assert!(largest <= MAX_ALLOCATION, "byte {i}: {largest} bytes");
    }
}

/// The lossless box tree (`seam probe --boxes`) is the one parser that recurses into any container;
/// `Limits::max_depth` stops it, so a depth bomb is an error, not a stack overflow.
#[test]
fn depth_bomb_in_box_tree() {
    let last = fixture("moov_last.mp4");
    let bomb = append_into(&last, "moov", &nest(b"udta", 100_000));
    let bytes = MemSource::new("bomb.mp4", bomb);
    let e = seam::demux::mp4::tree::parse(bytes.bytes(), 0, "bomb.mp4", &Limits::default())
        .unwrap_err();
    assert!(matches!(e, DemuxError::LimitExceeded { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("bomb.mp4") && msg.contains("at byte"), "{msg}");
    if std::env::var_os("HOSTILE_PRINT").is_some() {
        println!("| box tree of moov_last.mp4 + 100,000 nested udta | {msg} |");
    }
    // Within the limit the tree round-trips.
    let ok = MemSource::new("ok.mp4", append_into(&last, "moov", &nest(b"udta", 20)));
    let nodes = seam::demux::mp4::tree::parse(ok.bytes(), 0, "ok.mp4", &Limits::default()).unwrap();
    let mut out = Vec::new();
    seam::demux::mp4::tree::encode(&nodes, &mut out);
    assert!(out[..] == ok.bytes()[..]);
}
