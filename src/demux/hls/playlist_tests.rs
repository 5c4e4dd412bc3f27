use super::*;

fn media(text: &str) -> MediaPlaylist {
    match parse("p.m3u8", text, &Limits::default()) {
        Ok(Playlist::Media(m)) => m,
        other => panic!("not a media playlist: {other:?}"),
    }
}

fn error(text: &str) -> String {
    parse("p.m3u8", text, &Limits::default())
        .expect_err("should fail")
        .to_string()
}

const MEDIA: &str = "#EXTM3U\r
#EXT-X-VERSION:7\r
#EXT-X-TARGETDURATION:4\r
#EXT-X-MEDIA-SEQUENCE:100\r
#EXT-X-PROGRAM-DATE-TIME:2026-11-29T10:00:00Z\r
#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\r
# a comment\r
#EXTINF:4.004,first\r
#EXT-X-BYTERANGE:1000@720\r
all.mp4\r
#EXTINF:3.96,\r
#EXT-X-BYTERANGE:2000\r
all.mp4\r
#EXT-X-DISCONTINUITY\r
#EXT-X-MAP:URI=\"init2.mp4\"\r
#EXT-X-FOO:bar\r
#EXTINF:2\r
seg 3.mp4\r
#EXT-X-ENDLIST \r
";

#[test]
fn media_playlist() {
    let m = media(MEDIA);
    assert_eq!(m.version, Some(7));
    assert_eq!(m.target_duration, Some(4));
    assert_eq!(m.media_sequence, 100);
    assert!(m.end_list);
    assert_eq!(m.segments.len(), 3);
    let [a, b, c] = &m.segments[..] else {
        panic!("3 segments")
    };
    assert_eq!(
        a.duration,
        Duration {
            num: 4004,
            scale: 3
        }
    );
    assert_eq!(a.duration.to_string(), "4.004");
    assert_eq!(a.duration.millis(), 4004);
    assert_eq!(a.title, "first");
    assert_eq!(
        a.byte_range,
        Some(ByteRange {
            offset: 720,
            len: 1000
        })
    );
    assert_eq!(
        b.byte_range,
        Some(ByteRange {
            offset: 1720,
            len: 2000
        })
    );
    assert_eq!(b.duration.nanos(), 3_960_000_000);
    assert_eq!(c.byte_range, None);
    assert_eq!(c.uri, "seg 3.mp4");
    assert_eq!((a.sequence, c.sequence), (100, 102));
    assert!(!a.discontinuity_before && !b.discontinuity_before && c.discontinuity_before);
    assert_eq!((a.map, b.map, c.map), (Some(0), Some(0), Some(1)));
    assert_eq!(
        m.maps[0].byte_range,
        Some(ByteRange {
            offset: 0,
            len: 720
        })
    );
    assert_eq!(m.maps[1].byte_range, None);
    assert_eq!(m.duration_nanos(), 9_964_000_000);
    assert_eq!(m.warnings.len(), 1);
    assert_eq!(
        m.warnings[0].to_string(),
        "line 16: unknown tag #EXT-X-FOO ignored"
    );
}

#[test]
fn master_playlist_sorted_by_bandwidth() {
    let text = "#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"
mid.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1920x1080,FRAME-RATE=29.970
high.m3u8
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=640000
low.m3u8
";
    let Ok(Playlist::Master(m)) = parse("p.m3u8", text, &Limits::default()) else {
        panic!("master")
    };
    let uris: Vec<&str> = m.variants.iter().map(|v| v.uri.as_str()).collect();
    assert_eq!(uris, ["low.m3u8", "mid.m3u8", "high.m3u8"]);
    assert_eq!(
        m.variants[1].codecs.as_deref(),
        Some("avc1.64001f,mp4a.40.2")
    );
    assert_eq!(m.variants[1].resolution, Some((1280, 720)));
    assert_eq!(m.variants[1].average_bandwidth, Some(1_000_000));
    assert_eq!(m.variants[2].resolution, Some((1920, 1080)));
}

#[test]
fn attribute_lists() {
    let a = parse_attributes("URI=\"a,b=c.mp4\",BYTERANGE=\"10@5\",X-Y=0x1F,N=2.5").expect("ok");
    assert_eq!(a[0], ("URI".into(), AttrValue::Quoted("a,b=c.mp4".into())));
    assert_eq!(a[2], ("X-Y".into(), AttrValue::Plain("0x1F".into())));
    assert_eq!(a[3].1.as_str(), "2.5");
    for bad in ["URI", "uri=1", "A=\"x", "A=1,A=2", "A=1,", "A=\"x\"y"] {
        assert!(parse_attributes(bad).is_err(), "{bad}");
    }
}

#[test]
fn malformed_playlists() {
    let cases = [
        ("#EXTM3\nx.ts\n", "p.m3u8: line 1: the first line is not #EXTM3U"),
        ("#EXTM3U\nx.ts\n", "line 2: URI \"x.ts\" without #EXTINF"),
        ("#EXTM3U\n#EXTINF:abc,\nx.ts\n", "line 2: bad #EXTINF duration"),
        ("#EXTM3U\n#EXTINF:-1,\nx.ts\n", "bad #EXTINF duration"),
        (
            "#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:10\nx.ts\n",
            "line 4: #EXT-X-BYTERANGE without offset",
        ),
        (
            "#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:10@0\na.ts\n#EXTINF:1,\n#EXT-X-BYTERANGE:10\nb.ts\n",
            "line 7: #EXT-X-BYTERANGE without offset",
        ),
        ("#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n", "#EXT-X-MAP without a quoted URI"),
        (
            "#EXTM3U\n#EXTINF:1,\nx.ts\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
            "line 4: master playlist tags and media segment tags",
        ),
        ("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nv.m3u8\n", "without BANDWIDTH"),
        ("#EXTM3U\n#EXTINF:1,\nx.ts\n#EXT-X-MEDIA-SEQUENCE:3\n", "after the first segment"),
        (
            "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n",
            "line 2: unsupported: encrypted segments (#EXT-X-KEY METHOD=AES-128)",
        ),
    ];
    for (text, want) in cases {
        let e = error(text);
        assert!(e.contains(want), "{e}\nwanted: {want}");
    }
    // No target duration and a dangling #EXTINF: warnings, not errors.
    let m = media("#EXTM3U\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\n");
    let w: Vec<String> = m.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "line 3: #EXTINF applies to no segment (no URI follows)",
            "no #EXT-X-TARGETDURATION"
        ]
    );
}

#[test]
fn entry_limit() {
    let mut text = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:1\n");
    for i in 0..10 {
        text.push_str(&format!("#EXTINF:1,\n{i}.ts\n"));
    }
    let limits = Limits {
        max_playlist_entries: 5,
        ..Limits::default()
    };
    let e = parse("p.m3u8", &text, &limits).expect_err("limit");
    assert!(
        matches!(e, PlaylistError::LimitExceeded { line: 14, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("more than 5 playlist entries"));
}

#[test]
fn durations_are_exact() {
    assert_eq!(Duration::parse("10"), Some(Duration { num: 10, scale: 0 }));
    assert_eq!(
        Duration::parse("0.033366"),
        Some(Duration {
            num: 33366,
            scale: 6
        })
    );
    assert_eq!(
        Duration::parse("1.1234567891234"),
        Some(Duration {
            num: 1_123_456_789,
            scale: 9
        })
    );
    assert_eq!(Duration::parse("99999999999999999999"), None);
    for bad in ["", ".5", "1.2.3", "1e3", " 1", "+1"] {
        assert_eq!(Duration::parse(bad), None, "{bad}");
    }
    assert_eq!(
        Duration::parse("0.040").map(|d| d.to_string()).as_deref(),
        Some("0.040")
    );
}

#[test]
fn resolver_refuses_urls_and_escapes() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("hls");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    for f in ["a.ts", "sub/b.ts", "init.mp4"] {
        std::fs::write(dir.join(f), b"x").expect("write");
    }
    std::fs::write(root.path().join("outside.ts"), b"x").expect("write");
    std::os::unix::fs::symlink(root.path().join("outside.ts"), dir.join("link.ts")).expect("link");
    std::os::unix::fs::symlink(dir.join("a.ts"), dir.join("inner.ts")).expect("link");

    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n{body}")).expect("write");
        p
    };
    let ok = write(
        "ok.m3u8",
        "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nsub/b.ts\n#EXTINF:1,\ninner.ts\n#EXT-X-ENDLIST\n",
    );
    let opts = ResolveOptions::default();
    let Playlist::Media(m) = load(&ok, &Limits::default(), &opts).expect("load") else {
        panic!("media")
    };
    let canon = dir.canonicalize().expect("canon");
    assert_eq!(m.segments[0].path, canon.join("a.ts"));
    assert_eq!(m.segments[1].path, canon.join("sub/b.ts"));
    assert!(m.segments[1].discontinuity_before);
    assert_eq!(
        m.segments[2].path,
        canon.join("a.ts"),
        "a link inside resolves"
    );
    assert_eq!(m.maps[0].path, canon.join("init.mp4"));

    let cases = [
        ("http://example.com/a.ts", "a URL"),
        ("https://example.com/a.ts", "a URL"),
        ("file:///etc/passwd", "a URL"),
        ("rtmp:x", "a URL"),
        ("//host/a.ts", "a URL"),
        ("../outside.ts", "a '..' path"),
        ("sub/../../outside.ts", "a '..' path"),
        ("/etc/passwd", "an absolute path"),
        ("link.ts", "a symbolic link out of the playlist's folder"),
    ];
    for (uri, why) in cases {
        let p = write("bad.m3u8", &format!("#EXTINF:2,\n{uri}\n"));
        let e = load(&p, &Limits::default(), &opts).expect_err(uri);
        assert!(
            matches!(e, PlaylistError::Refused { line: 4, .. }),
            "{uri}: {e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains(why) && msg.contains("bad.m3u8: line 4: refused"),
            "{msg}"
        );
        // allow_any_path follows paths, never URLs.
        let any = ResolveOptions {
            allow_any_path: true,
        };
        let r = load(&p, &Limits::default(), &any);
        assert_eq!(why == "a URL", r.is_err(), "{uri}: {r:?}");
    }
    // Master playlists: variant paths resolve the same way.
    let p = dir.join("master.m3u8");
    std::fs::write(
        &p,
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nok.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nsub/b.ts\n",
    )
    .expect("write");
    let Playlist::Master(m) = load(&p, &Limits::default(), &opts).expect("master") else {
        panic!("master")
    };
    assert_eq!(m.variants[0].path, canon.join("sub/b.ts"));
    assert_eq!(m.variants[1].path, canon.join("ok.m3u8"));
    std::fs::write(
        &p,
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhttp://x/v.m3u8\n",
    )
    .expect("write");
    let e = load(&p, &Limits::default(), &opts).expect_err("url variant");
    assert!(matches!(e, PlaylistError::Refused { line: 3, .. }), "{e}");
    // A URL in EXT-X-MAP is refused too; a missing segment is an I/O error naming it.
    let p = write(
        "map.m3u8",
        "#EXT-X-MAP:URI=\"https://x/init.mp4\"\n#EXTINF:2,\na.ts\n",
    );
    let e = load(&p, &Limits::default(), &opts).expect_err("url map");
    assert!(
        e.to_string()
            .contains("line 3: refused \"https://x/init.mp4\""),
        "{e}"
    );
    let p = write("missing.m3u8", "#EXTINF:2,\nnope.ts\n");
    let e = load(&p, &Limits::default(), &opts).expect_err("missing");
    assert!(
        matches!(e, PlaylistError::Io { .. }) && e.to_string().contains("nope.ts"),
        "{e}"
    );
    // Into a DemuxError for the demux layer.
    let d: DemuxError = parse("p.m3u8", "#EXTM3U\nx.ts\n", &Limits::default())
        .expect_err("bad")
        .into();
    assert!(
        d.to_string().starts_with("p.m3u8: line 2 at byte 0: URI"),
        "{d}"
    );
}
