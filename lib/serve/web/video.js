/* global window, document, FormData, fetch */
/*
 * Videos on realfake's page: uploaded to api/v1/predict/video (server mode only: in-browser mode checks photos
 * only), then each tracked face's verdict with its timeline (pFake per sampled frame, the run's uncertain band
 * shaded, the threshold dashed), drawn as inline SVG. app.js hands video files here.
 */
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var VIDEO_TYPES = /\.(mp4|m4v|mov|mkv|webm)$/i;

  function isVideo(file) {
    return /^video\//.test(file.type || '') || VIDEO_TYPES.test(file.name);
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    return node;
  }

  /** pFake over time for one track: x is time over the whole video, y is pFake from 0 (bottom) to 1 (top). */
  function timeline(track, duration, policy, verdicts, name) {
    var W = 480;
    var H = 110;
    var pad = 4;
    var x = function (t) {
      return pad + ((W - 2 * pad) * t) / Math.max(duration, 0.5);
    };
    var y = function (p) {
      return pad + (H - 2 * pad) * (1 - p);
    };
    var shown = function (raw) {
      return verdicts.applyTemperature(raw, policy.temperature);
    };
    var cuts = verdicts.verdictCuts(policy);
    var root = svg('svg', {
      class: 'timeline',
      viewBox: '0 0 ' + W + ' ' + H,
      width: String(W),
      height: String(H),
      role: 'img',
      'aria-label':
        'pFake of face ' + track.id + ' in ' + name + ' from ' + track.firstSeen + ' s to ' + track.lastSeen + ' s',
    });
    root.appendChild(svg('rect', { x: '0', y: '0', width: String(W), height: String(H), fill: '#fafafa' }));
    if (cuts.fakeFrom > cuts.realBelow) {
      var top = y(isFinite(cuts.fakeFrom) ? shown(cuts.fakeFrom) : 1);
      var bottom = y(isFinite(cuts.realBelow) ? shown(cuts.realBelow) : 0);
      root.appendChild(
        svg('rect', { class: 'band', x: '0', y: String(top), width: String(W), height: String(bottom - top) }),
      );
    }
    var t = y(shown(policy.threshold));
    root.appendChild(svg('line', { class: 'threshold', x1: '0', x2: String(W), y1: String(t), y2: String(t) }));
    var points = track.scores
      .map(function (s) {
        return x(s.time).toFixed(1) + ',' + y(s.pFake).toFixed(1);
      })
      .join(' ');
    root.appendChild(svg('polyline', { class: 'scores', points: points }));
    track.scores.forEach(function (s) {
      root.appendChild(svg('circle', { cx: x(s.time).toFixed(1), cy: y(s.pFake).toFixed(1), r: '2.5' }));
    });
    return root;
  }

  async function upload(file) {
    var form = new FormData();
    form.append('video', file, file.name);
    var response = await fetch('api/v1/predict/video', { method: 'POST', body: form });
    var body = await response.json().catch(function () {
      return null;
    });
    if (!response.ok)
      throw new Error(body && body.error ? body.error.message : 'the server answered ' + response.status);
    return body;
  }

  /**
   * Checks one video and fills `item` (a results entry app.js made); `ui` carries app.js's helpers: el,
   * VERDICT_CLASS, policy, verdicts, and finishItem / failItem, which mark the entry and make its status line.
   */
  async function check(file, mode, item, ui) {
    item.setAttribute('data-kind', 'video');
    var caption = ui.el('p', { class: 'caption' }, file.name + ': checking on the server…');
    var tracks = ui.el('ol', { class: 'faces', 'aria-label': 'faces tracked in ' + file.name });
    item.appendChild(caption);
    item.appendChild(tracks);
    try {
      if (mode !== 'server')
        throw new Error('videos are checked on the server only; in-browser mode checks photos only');
      var result = await upload(file);
      caption.textContent =
        file.name +
        ' (' +
        result.video.duration.toFixed(1) +
        ' s, ' +
        result.video.width +
        '×' +
        result.video.height +
        '): ' +
        result.sampling.decoded +
        ' frames looked at, ' +
        result.tracks.length +
        ' face' +
        (result.tracks.length === 1 ? '' : 's') +
        ' tracked, in ' +
        result.ms +
        ' ms';
      result.warnings.forEach(function (w) {
        item.insertBefore(ui.el('p', { class: 'note' }, w), tracks);
      });
      if (result.tracks.length === 0)
        tracks.appendChild(ui.el('li', { class: 'face', 'data-verdict': 'none' }, 'No face found in this video.'));
      result.tracks.forEach(function (t) {
        var li = ui.el('li', { class: 'face track', 'data-verdict': t.verdict, 'data-pfake': String(t.pFake) });
        li.appendChild(
          ui.el('div', { class: 'verdict ' + ui.VERDICT_CLASS[t.verdict] }, 'Face ' + t.id + ': ' + t.verdict),
        );
        li.appendChild(
          ui.el(
            'div',
            {},
            'pFake ' +
              t.pFake.toFixed(4) +
              ' [' +
              t.interval.low.toFixed(4) +
              ', ' +
              t.interval.high.toFixed(4) +
              '] (95 % over frames) · fake in ' +
              (t.fakeShare * 100).toFixed(0) +
              ' % of frames · seen ' +
              t.firstSeen.toFixed(1) +
              '–' +
              t.lastSeen.toFixed(1) +
              ' s in ' +
              t.frames +
              ' frames',
          ),
        );
        li.appendChild(timeline(t, result.video.duration, ui.policy, ui.verdicts, file.name));
        tracks.appendChild(li);
      });
      return ui.finishItem(item, file, result, result.tracks);
    } catch (err) {
      return ui.failItem(item, file, tracks, err);
    }
  }

  window.realfakeVideo = { isVideo: isVideo, check: check };
})();
