//! Encrypted (Common Encryption, ISO/IEC 23001-7) inputs: stitched with their protection boxes and
//! per-sample encryption data, or refused by name.
//!
//! The inputs are made in the test's temp dir with ffmpeg (`-encryption_scheme cenc-aes-ctr`), so
//! these tests need it (see `common::require_ffmpeg`). ffmpeg 5.1 writes valid progressive CENC
//! but fragmented CENC without per-fragment `senc`/`saiz` (it cannot read its own), so the
//! fragmented encrypted inputs are seam's `--fragmented` output of ffmpeg's progressive ones,
//! checked here to decrypt to the same frames. ffmpeg 5.1 also decrypts a fragmented file with
//! the encryption data of whichever fragment it read last (it reads ahead), so seam's fragmented
//! output is checked by its structure (each traf's saio points at its senc entries, the counts
//! agree) and by decrypting what seam makes of it as a progressive file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use seam::model::TrackKind;

const KEY: &str = "76a6c65c5ea762046bd749a2e632ccbb";
const KID: &str = "a7e61c373e219033c21091fa607bf3b8";
const OTHER_KEY: &str = "00112233445566778899aabbccddeeff";
const OTHER_KID: &str = "0f0e0d0c0b0a09080706050403020100";

fn dir() -> PathBuf {
    let d = shared_dir().join("encrypted");
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// `ffmpeg -i fixtures/NAME -c copy` encrypted with `key`/`kid`, plus `extra` arguments.
fn encrypt(name: &str, key: &str, kid: &str, extra: &[&str], out: &str) -> PathBuf {
    let path = dir().join(out);
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(fixture(name))
        .args(extra)
        .args(["-c", "copy", "-encryption_scheme", "cenc-aes-ctr"])
        .args(["-encryption_key", key, "-encryption_kid", kid])
        .arg(&path)
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg encrypt: {}", describe(&o));
    path
}

/// The encrypted inputs, made once per test process: a and b progressive, a with another key,
/// b without its audio, and ffmpeg's own fragmented CENC of a.
struct Inputs {
    a: PathBuf,
    b: PathBuf,
    a_other_key: PathBuf,
    b_video_only: PathBuf,
    a_ffmpeg_fragmented: PathBuf,
}

fn inputs() -> &'static Inputs {
    static I: OnceLock<Inputs> = OnceLock::new();
    I.get_or_init(|| Inputs {
        a: encrypt("a.mp4", KEY, KID, &[], "a.enc.mp4"),
        b: encrypt("b.mp4", KEY, KID, &[], "b.enc.mp4"),
        a_other_key: encrypt("a.mp4", OTHER_KEY, OTHER_KID, &[], "a.otherkey.mp4"),
        b_video_only: encrypt("b.mp4", KEY, KID, &["-an"], "b.video.enc.mp4"),
        a_ffmpeg_fragmented: encrypt(
            "a.mp4",
            KEY,
            KID,
            &["-movflags", "frag_keyframe+empty_moov"],
            "a.fragenc.mp4",
        ),
    })
}

/// Runs `seam stitch -y [--fragmented] -o OUT INPUTS...`, expecting success.
fn stitch(inputs: &[&Path], fragmented: bool, out: &str) -> PathBuf {
    let path = dir().join(out);
    let mut args: Vec<&std::ffi::OsStr> = vec!["stitch".as_ref(), "-q".as_ref(), "-y".as_ref()];
    if fragmented {
        args.push("--fragmented".as_ref());
    }
    args.push("-o".as_ref());
    args.push(path.as_os_str());
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    let o = seam(&args);
    assert!(o.status.success(), "seam stitch: {}", describe(&o));
    path
}

/// Runs `seam stitch` expecting a refusal; returns stderr.
fn refused(inputs: &[&Path]) -> String {
    let out = dir().join("refused.mp4");
    let mut args: Vec<&std::ffi::OsStr> = vec!["stitch".as_ref(), "-y".as_ref(), "-o".as_ref()];
    args.push(out.as_os_str());
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    let o = seam(&args);
    assert!(!o.status.success(), "expected a refusal: {}", describe(&o));
    assert!(!out.exists(), "a refused stitch leaves no output");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// ffmpeg decrypting and decoding `path` prints nothing.
fn assert_decrypts(path: &Path) {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-decryption_key", KEY, "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("cannot run ffmpeg");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{} does not decrypt cleanly: {}",
        path.display(),
        describe(&o)
    );
}

/// The decrypted packets of `path` (`-c copy -f framemd5`): (stream, dts, pts, size, md5) per line.
fn decrypted_md5(path: &Path, key: Option<&str>) -> Vec<String> {
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error"]);
    if let Some(k) = key {
        c.args(["-decryption_key", k]);
    }
    let o = c
        .arg("-i")
        .arg(path)
        .args(["-map", "0", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "framemd5: {}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The clear stitch of the same fixtures: the decrypted output must be packet for packet the same
/// (the same plan, with ciphertext copied instead of clear text).
fn clear_stitch(names: &[&str]) -> PathBuf {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    stitch(&refs, false, &format!("clear_{}.mp4", names.join("_")))
}

/// The file as a progressive MP4 made by seam (for fragmented files, see the module comment).
fn progressive(path: &Path, out: &str) -> PathBuf {
    stitch(&[path], false, out)
}

/// Checks a decrypted stitch against the clear one and the ciphertext against the inputs'.
fn check_output(out: &Path, inputs: &[&Path], clear: &Path) {
    let readable = if seam_media(out).format == seam::model::ContainerFormat::FragmentedMp4 {
        check_fragment_boxes(out);
        progressive(out, &format!("{}.progressive.mp4", file_name(out)))
    } else {
        out.to_path_buf()
    };
    assert_decrypts(&readable);
    assert_eq!(
        decrypted_md5(&readable, Some(KEY)),
        decrypted_md5(clear, None),
        "{}: decrypted packets differ from the clear stitch",
        out.display()
    );
    // Ciphertext copied bit-exact: every output video sample is an input sample, in order.
    let want: Vec<String> = inputs
        .iter()
        .flat_map(|p| seam_sample_hashes(p, TrackKind::Video))
        .collect();
    assert_eq!(seam_sample_hashes(out, TrackKind::Video), want);
    let audio: Vec<Vec<String>> = inputs
        .iter()
        .map(|p| seam_sample_hashes(p, TrackKind::Audio))
        .collect();
    let a = align_audio(&seam_sample_hashes(out, TrackKind::Audio), &audio)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    assert!(a
        .runs
        .iter()
        .all(|r| r.silence_before == 0 && r.silence_inside == 0));
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Boxes in `data[range]`: (type, start, size).
fn children(data: &[u8], start: usize, end: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = start;
    while at + 8 <= end {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        assert!(size >= 8 && at + size <= end, "box at {at}");
        out.push((data[at + 4..at + 8].try_into().unwrap(), at, size));
        at += size;
    }
    out
}

fn be32(d: &[u8], at: usize) -> usize {
    u32::from_be_bytes(d[at..at + 4].try_into().unwrap()) as usize
}

/// Every traf of a fragmented output has senc, saiz and saio describing its trun's samples, and
/// saio (counted from the moof: default-base-is-moof) points at the senc's first entry.
fn check_fragment_boxes(path: &Path) {
    let d = std::fs::read(path).expect("read output");
    let mut trafs = 0;
    for (kind, moof, size) in children(&d, 0, d.len()) {
        if &kind != b"moof" {
            continue;
        }
        for (kind, traf, tsize) in children(&d, moof + 8, moof + size) {
            if &kind != b"traf" {
                continue;
            }
            trafs += 1;
            let kids = children(&d, traf + 8, traf + tsize);
            let find = |k: &[u8; 4]| {
                kids.iter()
                    .find(|c| &c.0 == k)
                    .map(|c| c.1)
                    .unwrap_or_else(|| {
                        panic!("traf at {traf} has no {}", String::from_utf8_lossy(k))
                    })
            };
            let (trun, senc, saiz, saio) =
                (find(b"trun"), find(b"senc"), find(b"saiz"), find(b"saio"));
            let samples = be32(&d, trun + 12);
            assert_eq!(be32(&d, senc + 12), samples, "senc count at {senc}");
            assert_eq!(be32(&d, saiz + 13), samples, "saiz count at {saiz}");
            assert_eq!(be32(&d, saio + 12), 1, "one saio offset at {saio}");
            assert_eq!(moof + be32(&d, saio + 16), senc + 16, "saio at {saio}");
        }
    }
    assert!(trafs > 0, "{}: no track fragments", path.display());
}

#[test]
fn encrypted_progressive_inputs_stitch_and_decrypt() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let clear = clear_stitch(&["a.mp4", "b.mp4"]);
    for fragmented in [false, true] {
        let out = stitch(&[&i.a, &i.b], fragmented, &format!("ab_{fragmented}.mp4"));
        check_output(&out, &[&i.a, &i.b], &clear);
    }
}

#[test]
fn encrypted_fragmented_inputs_stitch_and_decrypt() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    // Fragmented CENC inputs (senc, saiz and saio in every traf), checked to hold the same frames.
    let fa = stitch(&[&i.a], true, "a.frag.mp4");
    let fb = stitch(&[&i.b], true, "b.frag.mp4");
    check_output(&fa, &[&i.a], &clear_stitch(&["a.mp4"]));
    let clear = clear_stitch(&["a.mp4", "b.mp4"]);
    for fragmented in [false, true] {
        let out = stitch(&[&fa, &fb], fragmented, &format!("fab_{fragmented}.mp4"));
        check_output(&out, &[&fa, &fb], &clear);
    }
}

#[test]
fn encryption_data_read_through_saio_from_the_file() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    // seam's progressive output has no senc: its entries are read where stbl/saio points (mdat).
    let ab = stitch(&[&i.a, &i.b], false, "ab_saio.mp4");
    let bytes = std::fs::read(&ab).expect("read");
    assert!(
        !bytes.windows(4).any(|w| w == b"senc"),
        "no senc in progressive output"
    );
    let out = stitch(&[&ab, &i.a], false, "ab_a.mp4");
    let clear = stitch(
        &[&clear_stitch(&["a.mp4", "b.mp4"]), &fixture("a.mp4")],
        false,
        "clear_ab_a.mp4",
    );
    check_output(&out, &[&ab, &i.a], &clear);
}

#[test]
fn different_key_ids_are_refused_naming_both() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let e = refused(&[&i.a, &i.a_other_key]);
    assert!(e.contains(KID) && e.contains(OTHER_KID), "{e}");
    assert!(e.contains("scheme cenc"), "{e}");
}

#[test]
fn encrypted_and_clear_inputs_are_refused() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    for pair in [
        [i.a.clone(), fixture("b.mp4")],
        [fixture("b.mp4"), i.a.clone()],
    ] {
        let e = refused(&[&pair[0], &pair[1]]);
        assert!(e.contains("encryption") && e.contains(KID), "{e}");
        assert!(e.contains("clear"), "{e}");
    }
}

#[test]
fn silence_in_an_encrypted_audio_track_is_refused() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let e = refused(&[&i.a, &i.b_video_only]);
    assert!(
        e.contains("silent frames") && e.contains("encrypted"),
        "{e}"
    );
}

#[test]
fn fragments_without_encryption_data_are_refused() {
    if !require_ffmpeg() {
        return;
    }
    // ffmpeg 5.1's fragmented CENC has no senc/saiz in its trafs.
    let i = inputs();
    let e = refused(&[&i.a_ffmpeg_fragmented]);
    assert!(e.contains("encryption data") && e.contains(KID), "{e}");
}

/// `a.enc.mp4` with a `pssh` box appended to its moov (the last box of ffmpeg's file, so no
/// offset moves).
fn with_pssh(src: &Path, pssh: &[u8], out: &str) -> PathBuf {
    let mut d = std::fs::read(src).expect("read");
    let (_, moov, size) = children(&d, 0, d.len())
        .into_iter()
        .find(|b| &b.0 == b"moov")
        .expect("moov");
    assert_eq!(moov + size, d.len(), "moov is the last box");
    let grown = u32::try_from(size + pssh.len()).expect("small");
    d[moov..moov + 4].copy_from_slice(&grown.to_be_bytes());
    d.extend_from_slice(pssh);
    let path = dir().join(out);
    std::fs::write(&path, d).expect("write");
    path
}

/// A version 0 `pssh` (ISO/IEC 23001-7 §8.1.2) of the W3C common system with 4 bytes of data.
fn pssh_box() -> Vec<u8> {
    let mut b = 36u32.to_be_bytes().to_vec();
    b.extend_from_slice(b"pssh");
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&[
        0x10, 0x77, 0xef, 0xec, 0xc0, 0xb2, 0x4d, 0x02, 0xac, 0xe3, 0x3c, 0x1e, 0x52, 0xe2, 0xfb,
        0x4b,
    ]);
    b.extend_from_slice(&4u32.to_be_bytes());
    b.extend_from_slice(b"seam");
    b
}

#[test]
fn pssh_boxes_are_kept_once() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let pssh = pssh_box();
    let a = with_pssh(&i.a, &pssh, "a.pssh.mp4");
    let b = with_pssh(&i.b, &pssh, "b.pssh.mp4");
    assert_eq!(&*seam_media(&a).pssh, &[bytes::Bytes::from(pssh.clone())]);
    for fragmented in [false, true] {
        let out = stitch(&[&a, &b], fragmented, &format!("pssh_{fragmented}.mp4"));
        let d = std::fs::read(&out).expect("read");
        let (_, moov, size) = children(&d, 0, d.len())
            .into_iter()
            .find(|b| &b.0 == b"moov")
            .expect("moov");
        let kids = children(&d, moov + 8, moov + size);
        let found: Vec<&[u8]> = kids
            .iter()
            .filter(|k| &k.0 == b"pssh")
            .map(|k| &d[k.1..k.1 + k.2])
            .collect();
        assert_eq!(found, [&pssh[..]], "one pssh, verbatim");
        let readable = if fragmented {
            progressive(&out, "pssh_true.progressive.mp4")
        } else {
            out
        };
        assert_decrypts(&readable);
    }
}

/// Every layout (stco, co64, fragments) carries each sample's encryption data: seam reads back
/// the entries the plan gave, sample by sample, and ffmpeg decrypts the co64 file.
#[test]
fn encryption_data_reads_back_identically_in_every_layout() {
    use seam::mux::mp4::{layout_fragmented, layout_progressive, ProgressiveOptions};
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let limits = seam::Limits::default();
    let medias: Vec<_> = [&i.a, &i.b]
        .iter()
        .map(|p| seam::probe(p, &limits).expect("probe"))
        .collect();
    let plan = seam::plan(&medias).expect("plan");
    assert!(plan.tracks.iter().all(|t| t.encryption.is_some()));
    let layouts = [
        (
            "stco",
            layout_progressive(&plan, ProgressiveOptions::default()),
        ),
        (
            "co64",
            layout_progressive(&plan, ProgressiveOptions { force_co64: true }),
        ),
        ("fragmented", layout_fragmented(&plan)),
    ];
    for (what, layout) in layouts {
        let layout = layout.expect("layout");
        let mut out = Vec::new();
        seam::mux::write_layout(&plan, &layout, &mut out, &mut |_, _| {}).expect("write");
        let path = dir().join(format!("layout_{what}.mp4"));
        std::fs::write(&path, &out).expect("write file");
        let media = seam::probe(&path, &limits).expect("re-parse");
        for (k, (got, want)) in media.tracks.iter().zip(&plan.tracks).enumerate() {
            let want = &want.encryption.as_ref().expect("encrypted").aux;
            let got = got.samples.aux().expect("read back");
            assert_eq!(got.len(), want.len(), "{what}: track {k}");
            for n in 0..want.len() {
                assert_eq!(got.get(n), want.get(n), "{what}: track {k} sample {n}");
            }
        }
        if what == "co64" {
            assert!(out.windows(4).any(|w| w == b"co64"));
            assert_decrypts(&path);
        }
    }
}

/// Every byte of the encryption boxes (senc, saiz, saio, tenc) set to 0x00, 0x01 and 0xff, in a
/// fragmented and a progressive encrypted file: demuxing and planning give a result or a typed
/// error, never a panic, and whatever plans lays out.
#[test]
fn damaged_encryption_boxes_never_panic() {
    if !require_ffmpeg() {
        return;
    }
    let i = inputs();
    let frag = stitch(&[&i.a], true, "hostile.frag.mp4");
    let prog = stitch(&[&i.a, &i.b], false, "hostile.prog.mp4");
    let limits = seam::Limits::default();
    let mut tried = 0;
    for file in [frag, prog, i.a.clone()] {
        let d = std::fs::read(&file).expect("read");
        // The first occurrence of each box type (whole box), found by its type bytes.
        let mut ranges = Vec::new();
        for kind in [&b"senc"[..], b"saiz", b"saio", b"tenc"] {
            if let Some(at) = d.windows(4).position(|w| w == kind) {
                let start = at - 4;
                let size = be32(&d, start).min(64);
                ranges.push(start..start + size);
            }
        }
        for r in ranges {
            for at in r {
                for v in [0x00u8, 0x01, 0xff] {
                    if d[at] == v {
                        continue;
                    }
                    let mut m = d.clone();
                    m[at] = v;
                    tried += 1;
                    let src = std::sync::Arc::new(seam::source::MemSource::new("m.mp4", m));
                    let Ok(media) = seam::probe_source(src, &limits) else {
                        continue;
                    };
                    if let Ok(plan) = seam::plan(std::slice::from_ref(&media)) {
                        let _ = seam::mux::mp4::layout_progressive(&plan, Default::default());
                        let _ = seam::mux::mp4::layout_fragmented(&plan);
                    }
                }
            }
        }
    }
    assert!(tried > 300, "{tried} mutations");
}
