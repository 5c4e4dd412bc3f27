#!/usr/bin/env python3
"""Builds the seed inputs of the fuzz targets from fixtures/.

    python3 fuzz/seed.py            # rewrites fuzz/seeds/

Seeds live apart from the corpora (fuzz/corpus/<target>/, which libFuzzer rewrites: `cargo fuzz
cmin` and input reduction delete files, seeds included). Fuzz runs read them as an extra,
read-only corpus directory; `tests/fuzz_replay.rs` replays them. See fuzz/README.md.

* mp4 (shared by mp4_demux and mp4_split): a *thin* copy of every fixture and the init segment
  (ftyp+moov) of each fragmented one. The whole fixtures are not copied: runs and the replay test
  read fixtures/ itself.
* stitch_e2e: pairs of fixtures in the target's input format: 2-byte big-endian length of the first
  file, the first file, the second file (so the first file must be under 64 KiB).
* h264_config: avcC payloads, their SPS and PPS NAL units, and the first bytes of a key frame;
  hvcC payloads and their VPS/SPS/PPS without the 2-byte NAL header (the target also parses H.265)
  (length-prefixed NAL units) from each fixture.
* aac_config: AudioSpecificConfigs, esds payloads (after version/flags, as `parse_esds` takes them)
  and ADTS headers written for each AudioSpecificConfig.
* flv_demux: the head of fixtures/flv/av.flv, its first tags with timestamps crossing 2^24 ms, a
  bare header, and a copy with a wrong PreviousTagSize and an unknown tag (runs and the replay
  test read fixtures/flv/ itself).
* m3u8: a media playlist (byte ranges, maps, a discontinuity, a URL, `..`), a master playlist, a
  CRLF playlist with a dangling #EXTINF.
* framing: av.flv's parameter sets and first frames in Annex B, one of its samples
  length-prefixed, its first AAC frames in ADTS, an H.265 fixture's parameter sets in Annex B,
  and small hand-made access units (AUD, filler, SEI, emulation prevention, trailing zeros).
"""
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")
SEEDS = os.path.join(ROOT, "fuzz", "seeds")

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex",
              b"moof", b"traf", b"udta", b"wave"}


def boxes(data, start, end):
    """Yields (type, box start, body start, box end) of the boxes packed in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        hdr = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            return
        yield kind, pos, pos + hdr, pos + size
        pos += size


def walk(data, start=0, end=None, path=()):
    """Yields (path, type, box start, body start, box end) for every box, depth first."""
    end = len(data) if end is None else end
    for kind, b, body, e in boxes(data, start, end):
        yield path, kind, b, body, e
        if kind in CONTAINERS:
            yield from walk(data, body, e, path + (kind,))
        elif kind == b"stsd":
            yield from walk(data, body + 8, e, path + (kind,))
        elif kind in (b"avc1", b"avc3", b"hvc1", b"hev1"):
            yield from walk(data, body + 78, e, path + (kind,))
        elif kind == b"mp4a":
            version = struct.unpack(">H", data[body + 8:body + 10])[0]
            skip = 28 + {1: 16, 2: 36}.get(version, 0)
            yield from walk(data, body + skip, e, path + (kind,))


def fixtures():
    return sorted(f for f in os.listdir(FIX) if f.endswith((".mp4", ".mov")))


def read(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def avcc_parameter_sets(avcc):
    """SPS and PPS NAL units of an avcC payload."""
    units = []
    pos = 5
    for count_mask in (0x1F, 0xFF):
        count = avcc[pos] & count_mask
        pos += 1
        for _ in range(count):
            n = struct.unpack(">H", avcc[pos:pos + 2])[0]
            units.append(avcc[pos + 2:pos + 2 + n])
            pos += 2 + n
    return units


def parse_esds_dsi(payload):
    """The DecoderSpecificInfo in an esds payload (after version/flags), or None."""
    def desc(pos):
        tag = payload[pos]
        pos += 1
        size = 0
        for _ in range(4):
            b = payload[pos]
            pos += 1
            size = (size << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        return tag, pos, pos + size

    tag, s, e = desc(0)
    if tag != 3:
        return None
    flags = payload[s + 2]
    pos = s + 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
    while pos < e:
        tag, ss, se = desc(pos)
        if tag == 4:
            p = ss + 13
            while p < se:
                t2, s2, e2 = desc(p)
                if t2 == 5:
                    return payload[s2:e2]
                p = e2
        pos = se
    return None


def adts_header(asc, payload_len):
    """A 7-byte ADTS header for the AAC described by an AudioSpecificConfig (2-byte form)."""
    aot = asc[0] >> 3
    freq = ((asc[0] & 7) << 1) | (asc[1] >> 7)
    ch = (asc[1] >> 3) & 15
    total = payload_len + 7
    return bytes([
        0xFF, 0xF1,
        ((aot - 1) << 6) | (freq << 2) | (ch >> 2),
        ((ch & 3) << 6) | (total >> 11),
        (total >> 3) & 0xFF,
        ((total & 7) << 5) | 0x1F,
        0xFC,
    ])


def first_video_sample(data):
    """(offset, size) of the first sample of the first avc1 track of a progressive file."""
    for path, kind, b, body, e in walk(data):
        if kind != b"stbl":
            continue
        sub = {k: (bb, ee) for k, _, bb, ee in boxes(data, body, e)}
        if b"stsz" not in sub or b"stco" not in sub or b"avc1" not in data[body:e]:
            continue
        sb, _ = sub[b"stsz"]
        const, count = struct.unpack(">II", data[sb + 4:sb + 12])
        if count == 0:
            continue
        size = const or struct.unpack(">I", data[sb + 12:sb + 16])[0]
        cb, _ = sub[b"stco"]
        off = struct.unpack(">I", data[cb + 8:cb + 12])[0]
        return off, size
    return None


KEEP = 8  # bytes kept of each sample in the thin copies


def thin_progressive(data):
    """A copy of a progressive file whose samples keep only their first KEEP bytes: stsz entries and
    chunk offsets are patched in place (no box changes size) and the mdat is rebuilt compactly."""
    out = bytearray(data)
    tops = list(boxes(data, 0, len(data)))
    mdats = [t for t in tops if t[0] == b"mdat"]
    if len(mdats) != 1 or mdats[0][2] - mdats[0][1] != 8:
        return None
    _, mdat_start, mdat_body, mdat_end = mdats[0]
    chunks = []  # (original offset, [(sample offset, new size)], entry position, wide)
    for path, kind, b, body, e in walk(data):
        if kind != b"stbl":
            continue
        sub = {k: bb for k, _, bb, _ in boxes(data, body, e)}
        if b"stsz" not in sub:
            continue
        sb = sub[b"stsz"]
        const, count = struct.unpack(">II", data[sb + 4:sb + 12])
        if const:
            sizes = [const] * count
            out[sb + 4:sb + 8] = struct.pack(">I", min(const, KEEP))
        else:
            sizes = list(struct.unpack(">%dI" % count, data[sb + 12:sb + 12 + 4 * count]))
            out[sb + 12:sb + 12 + 4 * count] = struct.pack(
                ">%dI" % count, *[min(x, KEEP) for x in sizes])
        cb = sub.get(b"stco") or sub.get(b"co64")
        wide = b"co64" in sub
        n_chunks = struct.unpack(">I", data[cb + 4:cb + 8])[0]
        width = 8 if wide else 4
        offs = [struct.unpack(">Q" if wide else ">I", data[cb + 8 + i * width:cb + 8 + (i + 1) * width])[0]
                for i in range(n_chunks)]
        scb = sub[b"stsc"]
        n_rows = struct.unpack(">I", data[scb + 4:scb + 8])[0]
        rows = [struct.unpack(">III", data[scb + 8 + 12 * i:scb + 20 + 12 * i]) for i in range(n_rows)]
        k = 0
        for j, (first, per_chunk, _) in enumerate(rows):
            last = rows[j + 1][0] if j + 1 < len(rows) else n_chunks + 1
            for c in range(first, last):
                pos = offs[c - 1]
                samples = []
                for _ in range(per_chunk):
                    samples.append((pos, min(sizes[k], KEEP)))
                    pos += sizes[k]
                    k += 1
                chunks.append((offs[c - 1], samples, cb + 8 + (c - 1) * width, wide))
    payload = bytearray()
    for orig, samples, entry, wide in sorted(chunks):
        out[entry:entry + (8 if wide else 4)] = struct.pack(
            ">Q" if wide else ">I", mdat_body + len(payload))
        for pos, n in samples:
            payload += data[pos:pos + n]
    mdat = struct.pack(">I4s", 8 + len(payload), b"mdat") + payload
    return bytes(out[:mdat_start]) + mdat + bytes(out[mdat_end:])


def thin_fragmented(data):
    """The same for a fragmented file whose trafs use default-base-is-moof and whose truns carry a
    data_offset and per-sample sizes (what ffmpeg writes); the mfra index is dropped."""
    tops = list(boxes(data, 0, len(data)))
    result = bytearray()
    i = 0
    while i < len(tops):
        kind, b, body, e = tops[i]
        if kind == b"mfra":
            i += 1
            continue
        if kind != b"moof":
            result += data[b:e]
            i += 1
            continue
        if i + 1 >= len(tops) or tops[i + 1][0] != b"mdat":
            return None
        moof = bytearray(data[b:e])
        payload = bytearray()
        for path, k2, b2, body2, e2 in walk(data, body, e):
            if k2 != b"trun":
                continue
            flags = struct.unpack(">I", data[body2:body2 + 4])[0] & 0xFFFFFF
            if flags & 0x201 != 0x201:
                return None
            count, data_offset = struct.unpack(">Ii", data[body2 + 4:body2 + 12])
            p = body2 + 12 + (4 if flags & 4 else 0)
            moof[body2 + 8 - b:body2 + 12 - b] = struct.pack(">i", (e - b) + 8 + len(payload))
            pos = b + data_offset
            for _ in range(count):
                if flags & 0x100:
                    p += 4
                size = struct.unpack(">I", data[p:p + 4])[0]
                moof[p - b:p + 4 - b] = struct.pack(">I", min(size, KEEP))
                payload += data[pos:pos + min(size, KEEP)]
                pos += size
                p += 4 + (4 if flags & 0x400 else 0) + (4 if flags & 0x800 else 0)
        for path, k2, b2, body2, e2 in walk(data, body, e):
            if k2 == b"tfhd":
                tf = struct.unpack(">I", data[body2:body2 + 4])[0]
                if tf & 1 or not tf & 0x20000:
                    return None
        result += moof + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload
        i += 2
    return bytes(result)


def thin(data):
    if any(k == b"moof" for k, *_ in boxes(data, 0, len(data))):
        return thin_fragmented(data)
    return thin_progressive(data)


def hvcc_parameter_sets(hvcc):
    """VPS, SPS and PPS NAL units of an hvcC payload (ISO/IEC 14496-15 §8.3.3.1)."""
    out, pos = [], 23
    for _ in range(hvcc[22] if len(hvcc) > 22 else 0):
        if pos + 3 > len(hvcc):
            break
        kind = hvcc[pos] & 0x3f
        count = struct.unpack(">H", hvcc[pos + 1:pos + 3])[0]
        pos += 3
        for _ in range(count):
            n = struct.unpack(">H", hvcc[pos:pos + 2])[0]
            if kind in (32, 33, 34):
                out.append(hvcc[pos + 2:pos + 2 + n])
            pos += 2 + n
    return out


def flv_tags(data):
    """Yields (tag start, TagType, DataSize) of the complete tags of an FLV file."""
    pos = struct.unpack(">I", data[5:9])[0] + 4
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        if pos + 11 + size > len(data):
            return
        yield pos, data[pos] & 0x1F, size
        pos += 11 + size + 4


def length_prefixed_units(sample):
    """The NAL units of a sample with 4-byte lengths."""
    units, pos = [], 0
    while pos + 4 <= len(sample):
        n = struct.unpack(">I", sample[pos:pos + 4])[0]
        units.append(sample[pos + 4:pos + 4 + n])
        pos += 4 + n
    return units


def annexb(units):
    return b"".join(b"\0\0\0\1" + u for u in units)


MEDIA_M3U8 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:4.004,first
#EXT-X-BYTERANGE:1000@720
all.mp4
#EXTINF:3.96,
#EXT-X-BYTERANGE:2000
all.mp4
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init2.mp4"
#EXT-X-FOO:bar
#EXTINF:2
../seg3.mp4
#EXTINF:2
https://example.com/seg4.ts
#EXT-X-ENDLIST
"""

MASTER_M3U8 = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"
mid.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1920x1080,FRAME-RATE=29.970
high.m3u8
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=640000
low.m3u8
"""

CRLF_M3U8 = ("#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-KEY:METHOD=NONE\r\n"
             "#EXTINF:1.1234567891234,t\r\n/abs/seg.ts\r\n#EXTINF:2,\r\n")

# AUD, SPS, PPS (4-byte start codes), SEI and IDR slice (3-byte, emulation prevention inside),
# filler, two slices with trailing zero bytes between them.
AVC_AU = bytes([
    0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0D, 0xAC,
    0, 0, 0, 1, 0x68, 0xEB, 0xE3, 0xCB, 0, 0, 1, 0x06, 0x05, 0x00, 0x00, 0x03, 0x01, 0x80,
    0, 0, 1, 0x65, 0x88, 0, 0, 3, 0, 0, 3, 3, 0x21, 0, 0, 0, 1, 0x0C, 0xFF, 0xFF, 0x80,
    0, 0, 1, 0x41, 0x9A, 0, 0, 0, 0, 0, 1, 0x41, 0x9B])
# H.265: AUD (type 35), IDR (19), filler (38).
HEVC_AU = bytes([0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, 0x26, 0x01, 0xAF,
                 0, 0, 1, 0x4C, 0x01, 0xFF])


def flv_seeds(hvccs):
    """Seeds of flv_demux, m3u8 and framing (see the module docstring)."""
    av = read(os.path.join("flv", "av.flv"))
    tags = list(flv_tags(av))
    write("flv_demux", "av-head.flv", av[:4000])
    ext = bytearray(av[:13])
    for i, (pos, _, size) in enumerate(tags[:6]):
        tag = bytearray(av[pos:pos + 11 + size + 4])
        ts = 0xFFFFF0 + i * 8
        tag[4:7] = (ts & 0xFFFFFF).to_bytes(3, "big")
        tag[7] = ts >> 24
        ext += tag
    write("flv_demux", "ext-ts.flv", bytes(ext))
    write("flv_demux", "header-only.flv", av[:13])
    odd = bytearray(ext)
    odd[13 + 11 + tags[0][2]] = 0x7F  # the first tag's PreviousTagSize
    odd += bytes([7, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2]) + struct.pack(">I", 13)  # TagType 7
    write("flv_demux", "odd.flv", bytes(odd))

    write("m3u8", "media.m3u8", MEDIA_M3U8.encode())
    write("m3u8", "master.m3u8", MASTER_M3U8.encode())
    write("m3u8", "crlf.m3u8", CRLF_M3U8.encode())

    avcc, asc, video, audio = None, None, [], []
    for pos, kind, size in tags:
        body = av[pos + 11:pos + 11 + size]
        if kind == 9 and len(body) > 5 and body[0] & 0x0F == 7:
            if body[1] == 0:
                avcc = body[5:]
            elif body[1] == 1:
                video.append(body[5:])
        elif kind == 8 and len(body) > 2 and body[0] >> 4 == 10:
            if body[1] == 0:
                asc = body[2:]
            elif body[1] == 1:
                audio.append(body[2:])
    frames = annexb(avcc_parameter_sets(avcc))
    for sample in video[:2]:
        frames += annexb(length_prefixed_units(sample))
    write("framing", "avc-keyframe.h264", frames[:2500])
    write("framing", "avc-sample.lp", video[2])
    write("framing", "four.adts", b"".join(adts_header(asc, len(f)) + f for f in audio[:4]))
    for hvcc, stem in sorted(hvccs.items(), key=lambda kv: kv[1])[:1]:
        write("framing", stem + "-ps.h265", annexb(hvcc_parameter_sets(hvcc)))
    write("framing", "au.h264", AVC_AU)
    write("framing", "hevc-au.h265", HEVC_AU)
    write("framing", "lp.bin", bytes([0, 0, 0, 2, 0x09, 0xF0, 0, 0, 0, 3, 0x41, 0x9A, 0x01]))


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    files = {name: read(name) for name in fixtures()}
    avccs, hvccs, asc_list, esds_list, thins = {}, {}, {}, {}, {}
    for name, data in files.items():
        stem = name.rsplit(".", 1)[0]
        tops = list(boxes(data, 0, len(data)))
        if any(k == b"moof" for k, *_ in tops):
            init_end = next(b for k, b, _, _ in tops if k == b"moof")
            write("mp4", stem + "-init.mp4", data[:init_end])
        for path, kind, b, body, e in walk(data):
            if kind == b"avcC":
                avccs.setdefault(data[body:e], stem)
            elif kind == b"hvcC":
                hvccs.setdefault(data[body:e], stem)
            elif kind == b"esds":
                payload = data[body + 4:e]
                esds_list.setdefault(payload, stem)
                dsi = parse_esds_dsi(payload)
                if dsi:
                    asc_list.setdefault(dsi, stem)
        small = thin(data)
        if small:
            thins[name] = small
            write("mp4", stem + "-thin.mp4", small)
        sample = first_video_sample(data)
        if sample:
            off, size = sample
            write("h264_config", stem + "-keyframe", data[off:off + min(size, 2048)])

    for avcc, stem in avccs.items():
        write("h264_config", stem + "-avcC", avcc)
        for i, unit in enumerate(avcc_parameter_sets(avcc)):
            write("h264_config", "%s-avcC-nal%d" % (stem, i), unit)
            write("h264_config", "%s-avcC-nal%d-rbsp" % (stem, i), unit[1:])
    for hvcc, stem in hvccs.items():
        # h264_config also reads its input as an hvcC record and, after a 2-byte NAL header, as an
        # H.265 SPS: the record, and each VPS/SPS/PPS without its header.
        write("h264_config", stem + "-hvcC", hvcc)
        for i, unit in enumerate(hvcc_parameter_sets(hvcc)):
            write("h264_config", "%s-hvcC-nal%d-rbsp" % (stem, i), unit[2:])
    for payload, stem in esds_list.items():
        write("aac_config", stem + "-esds", payload)
    for asc, stem in asc_list.items():
        write("aac_config", stem + "-asc", asc)
        write("aac_config", stem + "-adts", adts_header(asc, 200))

    pairs = [
        ("c.mp4", "b.mp4"), ("b.mp4", "c.mp4"), ("c.mp4", "c.mp4"),
        ("frag.mp4", "frag_noedts.mp4"), ("frag_noedts.mp4", "frag.mp4"),
        ("video_only.mp4", "video_only.mp4"), ("negcts.mp4", "c.mp4"),
        ("frag.mp4", "c.mp4"), ("c.mp4", "video_only.mp4"), ("c.mp4", "audio_late.mp4"),
        ("c.mp4", "mono44k.mp4"), ("c.mp4", "portrait.mp4"),
    ]
    # Whole files: only a few pairs (they are large); the thin copies cover every pair.
    for first, second in [("c.mp4", "b.mp4"), ("frag.mp4", "frag_noedts.mp4"),
                          ("video_only.mp4", "video_only.mp4")]:
        a, b = files[first], files[second]
        assert len(a) < 65536, first
        name = "%s+%s" % (first.rsplit(".", 1)[0], second.rsplit(".", 1)[0])
        write("stitch_e2e", name, struct.pack(">H", len(a)) + a + b)
    # The same pairs and more from the thin copies: small inputs make fast fuzzing.
    thin_pairs = pairs + [
        ("a.mp4", "b.mp4"), ("moov_last.mp4", "a.mp4"), ("timecode.mov", "timecode2.mov"),
        ("a.mp4", "rotated.mp4"), ("audio_late.mp4", "a.mp4"), ("a.mp4", "frag.mp4"),
    ]
    for first, second in thin_pairs:
        if first in thins and second in thins:
            a, b = thins[first], thins[second]
            name = "%s+%s-thin" % (first.rsplit(".", 1)[0], second.rsplit(".", 1)[0])
            write("stitch_e2e", name, struct.pack(">H", len(a)) + a + b)
    flv_seeds(hvccs)
    ts_seeds()
    container_seeds(thins)
    return 0


def adts_sine():
    """A 1 s ADTS file (ffmpeg's sine source, AAC-LC 44.1 kHz mono), made with ffmpeg when it is
    installed; also an adts_demux seed."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "x.aac")
        try:
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                            "-i", "sine=d=1", "-c:a", "aac", "-f", "adts", out], check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        with open(out, "rb") as f:
            return f.read()


def container_seeds(thins):
    """stitch_e2e pairs with the containers seam reads besides MP4: MPEG-TS (fixtures/mixed/b.ts,
    a timestamp jump in jump.ts, a recording split by bytes in cut_1.ts + cut_2.ts), FLV (c.flv),
    ADTS. The first file must be under 64 KiB and a seed under 120 KB, so the TS and FLV files are
    truncated: a cut only drops the access unit or tag it falls in, so these still stitch."""
    mixed = {n: read(os.path.join("mixed", n)) for n in
             ("a.mp4", "b.ts", "c.flv", "cut_1.ts", "cut_2.ts", "jump.ts")}
    a_thin = thins.get("a.mp4") or thin(mixed["a.mp4"])
    pairs = [
        ("b.ts+b.ts", mixed["b.ts"][:50000], mixed["b.ts"][:60000]),
        ("c.flv+c.flv", mixed["c.flv"][:50000], mixed["c.flv"][:60000]),
        ("a-thin+b.ts", a_thin, mixed["b.ts"][:60000]),
        ("b.ts+c.flv", mixed["b.ts"][:50000], mixed["c.flv"][:60000]),
        ("cut_1.ts+cut_2.ts", mixed["cut_1.ts"], mixed["cut_2.ts"][:60000]),
        ("jump.ts+a-thin", mixed["jump.ts"][:60000], a_thin),
        ("c.flv+a-thin", mixed["c.flv"][:50000], a_thin),
    ]
    aac = adts_sine()
    if aac:
        write("adts_demux", "sine-1s.aac", aac)
        pairs.append(("sine.aac+sine.aac", aac, aac))
        pairs.append(("b.ts+sine.aac", mixed["b.ts"][:50000], aac))
    for name, a, b in pairs:
        assert len(a) < 65536, name
        seed = struct.pack(">H", len(a)) + a + b
        assert len(seed) < 120000, name
        write("stitch_e2e", name, seed)


def ts_seeds():
    """ts_demux: truncations of fixtures/ts/*.ts (the whole files are replayed from there), an M2TS
    copy, and copies with garbage inserted or a packet dropped."""
    plain = read(os.path.join("ts", "plain.ts"))
    wrap = read(os.path.join("ts", "wrap.ts"))
    write("ts_demux", "plain-4k", plain[:4096])
    write("ts_demux", "plain-12k-cut", plain[:12000])
    write("ts_demux", "wrap-8k", wrap[:8192])
    write("ts_demux", "wrap-tail-6k", wrap[-6016:])
    m2ts = b"".join(struct.pack(">I", k * 1000) + plain[p:p + 188]
                    for k, p in enumerate(range(0, 4136, 188)))
    write("ts_demux", "plain-m2ts-4k", m2ts)
    write("ts_demux", "plain-garbage", plain[:1880] + b"\x47junk\x47" * 9 + plain[1880:6016])
    write("ts_demux", "plain-drop", plain[:2256] + plain[2444:6016])


if __name__ == "__main__":
    sys.exit(main())
