#!/usr/bin/env node
// Plays video files in headless Chromium and prints, per file, what the browser decoded.
//
//   node chromium_play.js [--mse] [--rate R] FILE...
//
// Each file is served from 127.0.0.1 (with Range support, as a web server would) to a page that
// plays it to the end in a muted <video> at playbackRate R (default 4), either from its URL
// (`src=`: Chromium's FFmpeg-based demuxer) or, with --mse, appended whole to a MediaSource
// (Chromium's own MP4 parser, what hls.js / dash.js players use; fragmented MP4 only). One JSON
// line per file on stdout:
//   {"file":..., "mode":"src"|"mse", "ended":bool, "error":null|"code: message",
//    "decoded":N (getVideoPlaybackQuality().totalVideoFrames), "dropped":N,
//    "presented":N (requestVideoFrameCallback calls), "duration":s, "currentTime":s,
//    "width":W, "height":H}
// `decoded` counts frames the decoder produced; `error` is the media element's error, if any.
// Needs Debian's `chromium` (apt-get install chromium) and playwright-core (npm install here).

'use strict';
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
let mse = false;
let rate = 4;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mse') mse = true;
  else if (args[i] === '--rate') rate = Number(args[++i]);
  else files.push(path.resolve(args[i]));
}
if (files.length === 0) {
  console.error('usage: chromium_play.js [--mse] [--rate R] FILE...');
  process.exit(2);
}

// The MSE type of a file, from ffprobe's codec names (the codec strings only need to name the
// codec family: Chromium checks the stream's codecs against them, not the profile).
function mseType(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name',
    '-of', 'csv=p=0', file]).toString().split('\n').map((s) => s.trim()).filter(Boolean);
  const codecs = out.map((c) => ({ h264: 'avc1.42E01E', hevc: 'hvc1.1.6.L93.B0',
    aac: 'mp4a.40.2' }[c])).filter(Boolean);
  return `video/mp4; codecs="${codecs.join(',')}"`;
}

function serve(files) {
  const byName = new Map(files.map((f, i) => [`/${i}.mp4`, f]));
  const server = http.createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body></body></html>');
      return;
    }
    const f = byName.get(req.url);
    if (!f) { res.writeHead(req.url === "/favicon.ico" ? 204 : 404); res.end(); return; }
    const size = fs.statSync(f).size;
    const m = /bytes=(\d*)-(\d*)/.exec(req.headers.range || '');
    if (m) {
      const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
      const end = m[1] !== '' && m[2] !== '' ? Math.min(Number(m[2]), size - 1) : size - 1;
      res.writeHead(206, { 'content-type': 'video/mp4', 'accept-ranges': 'bytes',
        'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      fs.createReadStream(f, { start, end }).pipe(res);
    } else {
      res.writeHead(200, { 'content-type': 'video/mp4', 'accept-ranges': 'bytes',
        'content-length': size });
      fs.createReadStream(f).pipe(res);
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

// Runs in the page: plays `url` to the end and resolves with what was decoded.
async function play({ url, mse, type, rate }) {
  const v = document.createElement('video');
  v.muted = true;
  document.body.appendChild(v);
  let presented = 0;
  const count = () => { presented++; v.requestVideoFrameCallback(count); };
  v.requestVideoFrameCallback(count);
  const result = (ended, error) => {
    const q = v.getVideoPlaybackQuality();
    return { ended, error, decoded: q.totalVideoFrames, dropped: q.droppedVideoFrames, presented,
      duration: v.duration, currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight };
  };
  const done = new Promise((resolve) => {
    v.addEventListener('ended', () => resolve(result(true, null)));
    v.addEventListener('error', () => resolve(result(false,
      v.error ? `${v.error.code}: ${v.error.message}` : 'error')));
    setTimeout(() => resolve(result(false, 'timeout')), 60000);
  });
  if (mse) {
    if (!MediaSource.isTypeSupported(type)) return result(false, `MSE does not support ${type}`);
    const ms = new MediaSource();
    v.src = URL.createObjectURL(ms);
    await new Promise((ok) => ms.addEventListener('sourceopen', ok, { once: true }));
    const sb = ms.addSourceBuffer(type);
    const data = await (await fetch(url)).arrayBuffer();
    const appended = await new Promise((ok) => {
      sb.addEventListener('updateend', () => ok(null), { once: true });
      sb.addEventListener('error', () => ok('SourceBuffer error'), { once: true });
      sb.appendBuffer(data);
    });
    if (appended) return result(false, appended);
    if (ms.readyState === 'open') ms.endOfStream();
  } else {
    v.src = url;
  }
  v.playbackRate = rate;
  try { await v.play(); } catch (e) { return result(false, `play(): ${e.message}`); }
  return done;
}

(async () => {
  const server = await serve(files);
  const port = server.address().port;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    for (let i = 0; i < files.length; i++) {
      const page = await browser.newPage();
      const logs = [];
      page.on('console', (m) => { if (m.type() === 'error') logs.push(m.text()); });
      await page.goto(`http://127.0.0.1:${port}/`);
      const r = await page.evaluate(play, { url: `/${i}.mp4`, mse,
        type: mse ? mseType(files[i]) : '', rate });
      console.log(JSON.stringify({ file: files[i], mode: mse ? 'mse' : 'src', ...r,
        console: logs }));
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
