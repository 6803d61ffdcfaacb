/**
 * Video: sampling, probing, tracking and per-track verdicts on known answers; then clips made at test time with
 * ffmpeg from two dev faces (test/fixtures/videos.ts) through the library, the CLI and the API, every bad video
 * (corrupt, truncated, audio only, zero frames, 2 hours, variable frame rate, rotation), and Ctrl-C.
 * The model is a small random one: the verdicts say nothing about the faces, only that each track gets one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { Predictor } from '../lib/infer/predict';
import { thresholdPolicy, type VerdictPolicy } from '../lib/infer/verdict';
import { createServer, type RealfakeServer } from '../lib/serve/server';
import { predictVideo, type VideoVerdict } from '../lib/video/predict-video';
import { checkVideoLimits, CLI_VIDEO_LIMITS, videoInfoFromProbe } from '../lib/video/probe';
import { planSampling } from '../lib/video/sampling';
import { FaceTracker, iou } from '../lib/video/tracker';
import { trackVerdict } from '../lib/video/track-verdict';
import { videoTimelineFigure } from '../lib/viz/video-timeline';
import { BIN, realfake } from './helpers/cli';
import { createRandomRun } from './fixtures/runs';
import { makeBadVideos, makeGoodClips, videoFacesSkip, type BadVideos, type Clips } from './fixtures/videos';

const skip = videoFacesSkip();
let tmp: string;
let runDir: string;
let clips: Clips;
let bad: BadVideos;
let predictor: Predictor;

before(async () => {
  if (skip) return;
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-video-'));
  runDir = await createRandomRun(tmp);
  clips = await makeGoodClips(tmp);
  bad = makeBadVideos(tmp, clips.two);
  predictor = await Predictor.fromRun(runDir);
});

after(async () => {
  await predictor?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Known answers without ffmpeg

test('sampling: 2 frames a second on timestamps; a 2-hour video is spread evenly within --max-frames and says so', () => {
  assert.deepEqual(planSampling({ duration: 12 }), { fps: 2, frames: 24, interval: 0.5 });
  assert.equal(planSampling({ duration: 12 }, { fps: 5 }).frames, 60);
  const long = planSampling({ duration: 7200 }, { maxFrames: 600 });
  assert.equal(long.frames, 600);
  assert.equal(long.interval, 12);
  assert.match(
    long.note!,
    /14400 frames at 2\/s would pass the limit of 600: 600 frames spread evenly, one every 12\.0 s/,
  );
  assert.throws(() => planSampling({ duration: 1 }, { fps: 0 }), /fps must be above 0/);
});

const stream = (extra: Record<string, unknown> = {}) => ({
  codec_type: 'video',
  codec_name: 'h264',
  width: 640,
  height: 360,
  duration: '12.0',
  nb_frames: '120',
  avg_frame_rate: '10/1',
  r_frame_rate: '10/1',
  ...extra,
});

test('probe facts: no video stream, rotation (display matrix or tag), variable frame rate, and the limits', () => {
  assert.throws(
    () => videoInfoFromProbe({ streams: [{ codec_type: 'audio' }] }, 'a.mp4', 10),
    /^Error: a\.mp4: no video stream \(only audio\)$/,
  );
  // Cover art is a one-picture "video" stream: still no video.
  assert.throws(
    () => videoInfoFromProbe({ streams: [{ codec_type: 'video', disposition: { attached_pic: 1 } }] }, 'b.m4a', 10),
    /no video stream/,
  );
  const turned = videoInfoFromProbe({ streams: [stream({ side_data_list: [{ rotation: -90 }] })] }, 'r.mp4', 10);
  assert.equal(turned.rotation, 270);
  assert.equal(videoInfoFromProbe({ streams: [stream({ tags: { rotate: '90' } })] }, 'r.mp4', 10).rotation, 90);
  const vfr = videoInfoFromProbe({ streams: [stream({ avg_frame_rate: '210/11', r_frame_rate: '30/1' })] }, 'v', 1);
  assert.equal(vfr.variableFrameRate, true);
  const info = videoInfoFromProbe({ streams: [stream()] }, 'ok.mp4', 1000);
  assert.equal(info.frames, 120);
  assert.doesNotThrow(() => checkVideoLimits(info, CLI_VIDEO_LIMITS, 'ok.mp4'));
  const zero = videoInfoFromProbe({ streams: [stream({ nb_frames: '0' })] }, 'z.mp4', 1000);
  assert.throws(
    () => checkVideoLimits(zero, CLI_VIDEO_LIMITS, 'z.mp4'),
    /^Error: z\.mp4: the video stream has zero frames$/,
  );
  const limits = { ...CLI_VIDEO_LIMITS, maxDuration: 10 };
  assert.throws(() => checkVideoLimits(info, limits, 'ok.mp4'), /ok\.mp4: 12\.0 s long, over the limit of 10\.0 s/);
  assert.throws(() => checkVideoLimits(info, { ...CLI_VIDEO_LIMITS, maxBytes: 999 }, 'ok.mp4'), /over the limit of/);
  assert.throws(() => checkVideoLimits(info, { ...CLI_VIDEO_LIMITS, maxStreamFrames: 100 }, 'ok.mp4'), /120 frames/);
});

const box = (x: number, y: number, size = 100) => ({ x, y, width: size, height: size });
const sighting = (index: number, b: ReturnType<typeof box>, value: string, lm?: Array<{ x: number; y: number }>) => ({
  index,
  time: index / 2,
  box: b,
  landmarks: lm,
  value,
});

test('tracker: boxes that overlap continue a track; a face missing more than maxMissed samples starts a new one', () => {
  assert.equal(iou(box(0, 0), box(50, 0)), 50 / 150);
  const tracker = new FaceTracker<string>(2);
  tracker.add([sighting(0, box(0, 0), 'a0'), sighting(0, box(300, 0), 'b0')]);
  tracker.add([sighting(1, box(310, 5), 'b1'), sighting(1, box(10, 5), 'a1')]); // listed the other way round
  tracker.add([sighting(2, box(20, 10), 'a2')]); // b missed once
  tracker.add([sighting(3, box(30, 10), 'a3')]); // twice
  tracker.add([sighting(4, box(40, 10), 'a4'), sighting(4, box(320, 5), 'b4')]); // b is back within the rule
  for (let i = 5; i <= 8; i++) tracker.add([sighting(i, box(40, 10), `a${i}`)]); // b misses 4: ends
  tracker.add([sighting(9, box(40, 10), 'a9'), sighting(9, box(320, 5), 'c9')]);
  const tracks = tracker.tracks().map((t) => ({ id: t.id, values: t.sightings.map((s) => s.value) }));
  assert.deepEqual(tracks, [
    { id: 1, values: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'] },
    { id: 2, values: ['b0', 'b1', 'b4'] },
    { id: 3, values: ['c9'] },
  ]);
});

test('tracker: when two faces overlap a track equally, the one whose landmarks are closer continues it', () => {
  const lm = (dx: number) => Array.from({ length: 68 }, (_, i) => ({ x: 50 + dx + (i % 10), y: 50 + i }));
  const tracker = new FaceTracker<string>();
  tracker.add([sighting(0, box(100, 100), 'first', lm(100))]);
  // Both boxes overlap the track by the same IoU (one 10 px left, one 10 px right); the right one's landmarks match.
  tracker.add([sighting(1, box(90, 100), 'left', lm(60)), sighting(1, box(110, 100), 'right', lm(101))]);
  const tracks = tracker.tracks();
  assert.deepEqual(
    tracks[0].sightings.map((s) => s.value),
    ['first', 'right'],
  );
  assert.deepEqual(
    tracks[1].sightings.map((s) => s.value),
    ['left'],
  );
});

test('track verdict: the policy on the mean, a bootstrap interval that holds it, the share of frames called fake', () => {
  const policy: VerdictPolicy = thresholdPolicy(0.5);
  const steady = trackVerdict([0.8, 0.8, 0.8], policy);
  assert.equal(steady.verdict, 'Fake (AI-generated)');
  assert.ok(Math.abs(steady.pFake - 0.8) < 1e-12);
  assert.deepEqual(
    [steady.interval.low, steady.interval.high].map((v) => +v.toFixed(12)),
    [0.8, 0.8],
  );
  assert.equal(steady.fakeShare, 1);
  const mixed = trackVerdict([0.1, 0.2, 0.9, 0.3], policy);
  assert.equal(mixed.verdict, 'Real'); // mean 0.375
  assert.ok(Math.abs(mixed.pFake - 0.375) < 1e-12);
  assert.equal(mixed.fakeShare, 0.25);
  assert.ok(mixed.interval.low < 0.375 && mixed.interval.high > 0.375 && mixed.interval.low >= 0.1);
  // A band: the mean inside it is Uncertain, whatever single frames say.
  const band: VerdictPolicy = {
    threshold: 0.5,
    temperature: 1,
    band: {
      target: 0.95,
      real: { calibrated: 0.3, raw: 0.3, precision: 0.95, count: 10, correct: 10 },
      fake: { calibrated: 0.7, raw: 0.7, precision: 0.95, count: 10, correct: 10 },
    },
  };
  assert.equal(trackVerdict([0.1, 0.9], band).verdict, 'Uncertain');
});

test('timeline figure: one line per track over time, the threshold dashed and the band shaded', () => {
  const video = {
    file: 'dir/clip.mp4',
    video: { duration: 12 },
    tracks: [1, 2].map((id) => ({
      id,
      verdict: 'Real',
      pFake: 0.2,
      scores: [
        { time: 0, pFake: 0.2 },
        { time: 0.5, pFake: 0.3 },
      ],
    })),
  } as unknown as VideoVerdict;
  const fig = videoTimelineFigure(video, thresholdPolicy(0.5));
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[1].x, [0, 0.5]);
  assert.deepEqual(fig.data[1].y, [0.2, 0.3]);
  const shapes = fig.layout.shapes as Array<Record<string, unknown>>;
  assert.deepEqual(
    shapes.map((s) => [s.type, s.y0]),
    [['line', 0.5]],
  ); // no band without a model card
  assert.match(JSON.stringify(fig.layout.title), /clip\.mp4: pFake per tracked face \(2 tracks\)/);
});

// ---------------------------------------------------------------------------------------------------------
// Clips made with ffmpeg from two dev faces

/** The faces' columns in the 640x360 clip (lib/video/make-clip.ts): face 1 left, face 2 right. */
function assertTwoTracks(v: VideoVerdict, frames: number) {
  assert.equal(v.tracks.length, 2, JSON.stringify(v.tracks.map((t) => [t.id, t.frames, t.firstSeen, t.lastSeen])));
  for (const t of v.tracks) {
    assert.equal(t.frames, frames);
    assert.equal(t.firstSeen, 0);
    assert.ok(['Real', 'Fake (AI-generated)', 'Uncertain'].includes(t.verdict));
    assert.ok(t.interval.low <= t.pFake + 1e-9 && t.pFake <= t.interval.high + 1e-9);
    assert.equal(t.scores.length, frames);
  }
  const [left, right] = v.tracks;
  assert.ok(left.box.x < 320 && right.box.x >= 320, `${left.box.x} ${right.box.x}`);
}

test(
  'a 12 s clip with two moving faces gives exactly two tracks of 24 frames, each with a verdict',
  { skip },
  async () => {
    const v = await predictVideo(predictor, clips.two);
    assert.deepEqual(v.sampling, { fps: 2, frames: 24, interval: 0.5, decoded: 24 });
    assertTwoTracks(v, 24);
    assert.equal(v.tracks[0].lastSeen, 11.5);
    // The faces move right/down (face 1) and left/up (face 2): their boxes follow.
    const [a, b] = v.tracks;
    assert.ok(a.scores[23].box.x - a.scores[0].box.x > 60, 'face 1 moved right by ~88 px');
    assert.ok(b.scores[0].box.x - b.scores[23].box.x > 40, 'face 2 moved left by ~66 px');
  },
);

test(
  'rotation metadata: frames stored sideways come out upright (640x360) and give the same two tracks',
  { skip },
  async () => {
    const v = await predictVideo(predictor, clips.rotated);
    assert.equal(v.video.rotation, 90);
    assert.deepEqual([v.video.width, v.video.height], [640, 360]);
    assertTwoTracks(v, 24);
    const plain = await predictVideo(predictor, clips.two);
    v.tracks.forEach((t, i) => assert.ok(iou(t.box, plain.tracks[i].box) > 0.8, `track ${i + 1} box`));
  },
);

test(
  'a variable-frame-rate clip is sampled on timestamps: every 0.5 s through the 2 fps part too, two tracks',
  { skip },
  async () => {
    const v = await predictVideo(predictor, clips.vfr);
    assert.equal(v.video.variableFrameRate, true);
    // 10 fps for 6 s, then 2 fps: sampling by frame number would bunch samples in the first part.
    assert.ok(v.sampling.decoded >= 22 && v.sampling.decoded <= 24, String(v.sampling.decoded));
    assertTwoTracks(v, v.sampling.decoded);
    // The picture at each sample's time is the constant-rate clip's at that time (the faces move, so a sample
    // taken by frame number would find them elsewhere).
    const plain = await predictVideo(predictor, clips.two);
    v.tracks.forEach((t, i) =>
      t.scores.forEach((s, k) => {
        assert.equal(s.time, plain.tracks[i].scores[k].time);
        assert.ok(iou(s.box, plain.tracks[i].scores[k].box) > 0.8, `face ${i + 1} at ${s.time} s`);
      }),
    );
  },
);

test('CLI: text, --json with per-frame scores, --csv and --timeline; WebM too', { skip, timeout: 300_000 }, () => {
  const timeline = path.join(tmp, 'timeline.html');
  const json = realfake(['predict', '--run', runDir, '--faces', '--json', '--timeline', timeline, clips.two], tmp);
  assert.equal(json.code, 0, json.stderr);
  const v = JSON.parse(json.stdout) as VideoVerdict;
  assertTwoTracks(v, 24);
  for (const t of v.tracks) {
    assert.deepEqual(Object.keys(t).slice(0, 5), ['id', 'frames', 'firstSeen', 'lastSeen', 'box']);
    assert.ok('interval' in t && 'verdict' in t && 'pFake' in t);
  }
  const html = fs.readFileSync(timeline, 'utf8');
  assert.match(html, /Plotly\.newPlot/);
  assert.match(html, /face 1: /);
  assert.match(html, /face 2: /);

  const text = realfake(['predict', '--run', runDir, '--faces', clips.webm], tmp);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /two-faces\.webm\tface 1\t0\.0-3\.5 s\t8 frames\t(Real|Fake \(AI-generated\)|Uncertain)\t[\d.]+%\tpFake=[\d.]+ \[[\d.]+, [\d.]+\]\tfake in [\d.]+% of frames/,
  );

  const csv = realfake(['predict', '--run', runDir, '--faces', '--csv', clips.webm], tmp);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split('\n');
  assert.equal(
    rows[0],
    'file,face,frames,firstSeen,lastSeen,x,y,width,height,verdict,confidence,pFake,low,high,fakeShare',
  );
  assert.equal(rows.length, 3);
});

test(
  'CLI: every bad video gets one line naming it and the reason; a batch goes on; never a stack trace',
  { skip, timeout: 300_000 },
  () => {
    const r = realfake(
      [
        'predict',
        '--run',
        runDir,
        '--faces',
        '--max-frames',
        '6',
        bad.corrupt,
        bad.truncated,
        bad.audioOnly,
        bad.zeroFrames,
        bad.twoHours,
      ],
      tmp,
    );
    assert.equal(r.code, 0, r.stderr); // the 2-hour video was read
    assert.equal(r.stdout.trim(), `${bad.twoHours}\tno face found in 6 frames`);
    const err = r.stderr;
    assert.match(
      err,
      new RegExp(`skipped ${bad.corrupt}: not a readable video: corrupt or truncated \\(moov atom not found\\)`),
    );
    assert.match(err, new RegExp(`skipped ${bad.truncated}: not a readable video: corrupt or truncated`));
    assert.match(err, new RegExp(`skipped ${bad.audioOnly}: no video stream \\(only audio\\)`));
    assert.match(
      err,
      new RegExp(`skipped ${bad.zeroFrames}: no frame could be decoded: zero frames or a corrupt stream`),
    );
    assert.match(
      err,
      new RegExp(
        `${bad.twoHours}: 14400 frames at 2/s would pass the limit of 6: 6 frames spread evenly, one every 1200\\.0 s`,
      ),
    );
    assert.match(err, /1 predicted, 4 skipped/);
    assert.doesNotMatch(err, /\n\s+at /);
    const none = realfake(['predict', '--run', runDir, '--faces', bad.audioOnly], tmp);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /realfake: no video could be read/);
  },
);

test('Ctrl-C stops ffmpeg (no orphan) and exits 130', { skip, timeout: 300_000 }, async () => {
  // The 2-hour clip at 2 frames a second: minutes of work, so ffmpeg is surely running when the signal comes.
  const child = spawn(
    process.execPath,
    [BIN, 'predict', '--run', runDir, '--faces', '--max-frames', '14400', bad.twoHours],
    {
      cwd: tmp,
      env: { ...process.env, REALFAKE_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ffmpegChild = (): number | null => {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        // The decoder (not the `ffmpeg -version` check): its command line asks for raw frames.
        const decoding = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rawvideo');
        if (ppid === child.pid && decoding) return Number(pid);
      } catch {
        // the process ended while we looked
      }
    }
    return null;
  };
  let ffmpegPid: number | null = null;
  while (ffmpegPid === null && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
    ffmpegPid = ffmpegChild();
  }
  assert.ok(ffmpegPid, `ffmpeg never started: ${stderr}`);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /interrupted while decoding/);
  assert.equal(
    fs.existsSync(`/proc/${ffmpegPid}`) && !fs.readFileSync(`/proc/${ffmpegPid}/stat`, 'utf8').includes(' Z '),
    false,
    'ffmpeg still runs',
  );
});

// ---------------------------------------------------------------------------------------------------------
// API

test(
  'API: a video upload gives the tracks; bad videos get 4xx JSON with the reason, checked before decoding',
  { skip, timeout: 300_000 },
  async () => {
    let server: RealfakeServer | undefined;
    try {
      server = await createServer({ runDir, video: { maxDuration: 60 } });
      const send = async (file: string, name = path.basename(file)) => {
        const form = new FormData();
        form.append('video', new Blob([fs.readFileSync(file)]), name);
        const res = await server!.app.inject({ method: 'POST', url: '/api/v1/predict/video', body: form as never });
        return { status: res.statusCode, body: res.json() };
      };
      const ok = await send(clips.two);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.file, 'two-faces.mp4');
      assertTwoTracks(ok.body as VideoVerdict, 24);
      // Raw bytes as the body work too.
      const raw = await server.app.inject({
        method: 'POST',
        url: '/api/v1/predict/video',
        headers: { 'content-type': 'application/octet-stream' },
        payload: fs.readFileSync(clips.webm),
      });
      assert.equal(raw.statusCode, 200);
      assert.equal(raw.json().tracks.length, 2);

      const expect = [
        [bad.corrupt, 422, 'unreadable', /corrupt\.mp4: not a readable video: corrupt or truncated/],
        [bad.truncated, 422, 'unreadable', /truncated\.mp4: not a readable video/],
        [bad.audioOnly, 422, 'no_video', /audio-only\.mp4: no video stream \(only audio\)/],
        [bad.zeroFrames, 422, 'no_frames', /zero-frames\.mp4: no frame could be decoded/],
        [bad.twoHours, 413, 'too_long', /two-hours\.mp4: 120\.0 min long, over the limit of 60\.0 s/],
      ] as const;
      for (const [file, status, code, message] of expect) {
        const r = await send(file);
        assert.equal(r.status, status, `${file}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, code);
        assert.match(r.body.error.message, message);
        assert.doesNotMatch(r.body.error.message, /realfake-video-|\/tmp\//, 'the temporary path stays private');
      }
      const png = await send(path.join(__dirname, '..', '..', 'lib', 'serve', 'web', 'index.html'), 'page.html');
      assert.equal(png.status, 415);
      const doc = (await server.app.inject({ url: '/api/v1/openapi.json' })).json();
      assert.ok(doc.paths['/api/v1/predict/video'].post);
      assert.equal((await server.app.inject({ url: '/api/v1/health' })).statusCode, 200, 'the server lives on');
    } finally {
      await server?.close();
    }
  },
);

test('ffmpeg missing: each video is skipped with the reason and how to install it', { skip }, () => {
  const r = spawnSync(process.execPath, [BIN, 'predict', '--run', runDir, '--faces', clips.webm], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, REALFAKE_BACKEND: 'wasm', REALFAKE_FFMPEG: '/nonexistent/ffmpeg' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /skipped .*two-faces\.webm: \/nonexistent\/ffmpeg not found \(apt-get install ffmpeg/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
