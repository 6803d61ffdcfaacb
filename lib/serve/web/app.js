/* global window, document, location, URL, Blob, FormData, TextDecoder, fetch, performance, createImageBitmap, atob, faceapi, ort */
/*
 * realfake's page: plain JavaScript, no build step, nothing from a CDN.
 *
 * Two modes:
 * - server: each photo is POSTed to api/v1/predict (the server decodes, finds faces and scores them).
 * - browser: everything happens here and the photo is never sent anywhere: face-api and BlazeFace (the same
 *   detector, landmark models and passes as the server, on tfjs' wasm backend), the same crop arithmetic (crop.js
 *   is the compiled lib/faces/crop.ts, blazeface.js lib/faces/blazeface.ts) and the run's model exported to ONNX
 *   on onnxruntime-web (wasm).
 *   Scores match the server's to float rounding when the browser decodes the same pixels: true for PNG (lossless);
 *   for JPEG, Chromium's decoder may round some pixels differently from libjpeg-turbo in sharp (the server), so
 *   JPEG scores can differ slightly.
 * Opened as a file, or from `realfake export --format web`, only browser mode exists.
 */
(function () {
  'use strict';
  var CFG = window.REALFAKE_CONFIG || { server: false, model: null };
  // The server's own code, compiled from lib/ (index.html loads it into window.realfakeLib): the crop arithmetic
  // (lib/faces/crop.ts), sharp's lanczos3 shrink (lib/faces/lanczos.ts), BlazeFace's decoding
  // (lib/faces/blazeface.ts; this file only runs its model) and the verdict policy (lib/infer/verdict.ts: the same
  // threshold, temperature and uncertain band as the server). One object; the names say which module is meant.
  var crop = window.realfakeLib;
  var lanczos = window.realfakeLib;
  var blaze = window.realfakeLib;
  var verdicts = window.realfakeLib;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var serverAvailable = CFG.server && location.protocol !== 'file:';
  var model = CFG.model;
  var mode = serverAvailable ? 'server' : 'browser';
  var browserEngine = null;
  var policy = (model && model.policy) || { threshold: model ? model.threshold : 0.5, temperature: 1, band: null };
  var VERDICT_CLASS = { Real: 'real', 'Fake (AI-generated)': 'fake', Uncertain: 'uncertain' };

  function say(text) {
    $('status').textContent = text;
  }

  function setMode(next) {
    mode = next;
    $('mode-server').checked = mode === 'server';
    $('mode-browser').checked = mode === 'browser';
    $('mode-note').textContent =
      mode === 'server'
        ? 'Photos are uploaded to this server, checked, and not stored.'
        : 'Photos are checked here with a copy of the model; nothing is uploaded. The first check loads the models (a few MB).';
  }

  function describeModel() {
    if (!model) {
      $('model-info').textContent = 'No model information (config.js missing).';
      return;
    }
    var parts = [
      'Model: run ' + model.run + ' (preset ' + model.preset + ')',
      model.imageSize + ' px, ' + model.resize + ' resize',
      describePolicy(),
      'server engine: ' + (serverAvailable ? model.engine : 'none (static page)'),
      'in-browser engine: ' +
        (model.inBrowser.available ? 'onnxruntime-web (wasm)' : 'unavailable: ' + model.inBrowser.reason),
      'face detector: ' + model.detector.name,
    ];
    if (model.metrics && typeof model.metrics.accuracy === 'number')
      parts.push('test accuracy ' + model.metrics.accuracy.toFixed(3));
    $('model-info').textContent = parts.join(' · ');
    describeCard(model.card);
  }

  /** The cuts in effect, on the probability shown (temperature-scaled, lib/infer/verdict.ts). */
  function describePolicy() {
    var cuts = verdicts.verdictCuts(policy);
    var shown = function (raw) {
      return verdicts.applyTemperature(raw, policy.temperature).toFixed(3);
    };
    if (!policy.band) return 'Fake when pFake ≥ ' + shown(policy.threshold);
    return (
      'Uncertain when ' +
      (isFinite(cuts.realBelow) ? shown(cuts.realBelow) : '0') +
      ' ≤ pFake < ' +
      (isFinite(cuts.fakeFrom) ? shown(cuts.fakeFrom) : '1') +
      ', Real below, Fake from there'
    );
  }

  /** The model card (lib/eval/model-card.ts): validated on, not validated on, the band, known weaknesses. */
  function describeCard(card) {
    if (!card) return;
    var pct = function (x) {
      return (x * 100).toFixed(1) + ' %';
    };
    var edge = function (side, e) {
      if (!e) return side + ': no cut reached ' + pct(policy.band.target) + ' on validation';
      return (
        side +
        (side === 'fake' ? ' when p ≥ ' : ' when p < ') +
        e.calibrated.toFixed(3) +
        ' (' +
        e.correct +
        ' of ' +
        e.count +
        ' validation images, ' +
        pct(e.precision) +
        ')'
      );
    };
    var facts = [
      [
        'Validated on',
        card.data.sources
          .map(function (s) {
            return s.source + ' (' + (s.label ? 'fake' : 'real') + ', ' + (s.train + s.val + s.test) + ')';
          })
          .join(', '),
      ],
      ['Not validated on', card.notValidatedOn.join(', ') || 'every family on the list was seen'],
      [
        'Uncertain band',
        policy.band
          ? edge('real', policy.band.real) + '; ' + edge('fake', policy.band.fake) + '; in between: Uncertain'
          : 'none (' + (card.band.notes.join('; ') || 'the threshold decides') + ')',
      ],
      ['Temperature', card.policy.temperature.toFixed(3) + ' (' + card.band.temperatureNote + ')'],
      ['Known weaknesses', card.knownWeaknesses.join('; ') || 'none below the bars on the sources above'],
    ];
    var list = $('card-facts');
    facts.forEach(function (f) {
      list.appendChild(el('dt', {}, f[0]));
      list.appendChild(el('dd', {}, f[1]));
    });
    $('model-card').hidden = false;
  }

  /* ---------- in-browser inference ---------- */

  /*
   * Assets come from vendor/ and model/ over HTTP, or, in an exported page (embedded.js), from base64 strings,
   * since a page opened as a file may not fetch.
   */
  var EMBEDDED = window.REALFAKE_EMBEDDED || null;
  function embeddedBytes(name) {
    var text = atob(EMBEDDED[name]);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  function assetUrl(name, type) {
    if (!EMBEDDED) return new URL('vendor/' + name, location.href).href;
    return URL.createObjectURL(new Blob([embeddedBytes(name)], { type: type }));
  }
  async function loadFaceModel(net, name) {
    if (!EMBEDDED) return net.loadFromUri('vendor/face-models');
    var manifest = JSON.parse(
      new TextDecoder().decode(embeddedBytes('face-models/' + name + '-weights_manifest.json')),
    );
    var weights = embeddedBytes('face-models/' + name + '.bin');
    return net.loadFromWeightMap(faceapi.tf.io.decodeWeights(weights.buffer, manifest[0].weights));
  }
  async function faceModelBytes(name) {
    if (EMBEDDED) return embeddedBytes('face-models/' + name);
    var response = await fetch('vendor/face-models/' + name);
    if (!response.ok) throw new Error('vendor/face-models/' + name + ': the server answered ' + response.status);
    return new Uint8Array(await response.arrayBuffer());
  }
  /** BlazeFace's graph model from blazeface.json and the weight files its manifest names (as lib/faces/detector.ts). */
  async function loadBlazeFaceModel() {
    var json = JSON.parse(new TextDecoder().decode(await faceModelBytes('blazeface.json')));
    var paths = [];
    var weightSpecs = [];
    json.weightsManifest.forEach(function (group) {
      paths = paths.concat(group.paths);
      weightSpecs = weightSpecs.concat(group.weights);
    });
    var weightData = await new Blob(await Promise.all(paths.map(faceModelBytes))).arrayBuffer();
    var tf = faceapi.tf;
    return tf.loadGraphModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: weightSpecs, weightData: weightData }),
    );
  }

  function loadBrowserEngine() {
    if (!browserEngine) {
      browserEngine = (async function () {
        if (!model || !model.inBrowser.available)
          throw new Error('in-browser mode is unavailable: ' + (model ? model.inBrowser.reason : 'no model'));
        var tf = faceapi.tf;
        var wasm = {};
        ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].forEach(
          function (f) {
            wasm[f] = assetUrl(f, 'application/wasm');
          },
        );
        tf.setWasmPaths(wasm);
        if (!(await tf.setBackend('wasm'))) throw new Error('the WebAssembly backend did not start');
        await tf.ready();
        await loadFaceModel(faceapi.nets.tinyFaceDetector, 'tiny_face_detector_model');
        await loadFaceModel(faceapi.nets.ssdMobilenetv1, 'ssd_mobilenetv1_model');
        await loadFaceModel(faceapi.nets.faceLandmark68TinyNet, 'face_landmark_68_tiny_model');
        var blazeFace = await loadBlazeFaceModel();
        ort.env.wasm.numThreads = 1;
        if (EMBEDDED) {
          ort.env.wasm.wasmBinary = embeddedBytes('ort-wasm-simd-threaded.wasm');
          ort.env.wasm.wasmPaths = { mjs: assetUrl('ort-wasm-simd-threaded.mjs', 'text/javascript') };
        } else {
          ort.env.wasm.wasmPaths = new URL('vendor/', location.href).href;
        }
        var onnx = EMBEDDED ? embeddedBytes('model/model.onnx') : model.inBrowser.onnx;
        var session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
        return { session: session, blazeFace: blazeFace };
      })();
      browserEngine.catch(function () {
        browserEngine = null;
      });
    }
    return browserEngine;
  }

  /** The photo's pixels as row-major RGB, decoded by the browser without colour management. */
  async function decodeRgb(file) {
    var bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    var canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    var ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    var rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    var data = new Uint8Array(bitmap.width * bitmap.height * 3);
    for (var p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
      data[q] = rgba[p];
      data[q + 1] = rgba[p + 1];
      data[q + 2] = rgba[p + 2];
    }
    bitmap.close();
    return { data: data, width: canvas.width, height: canvas.height };
  }

  /*
   * The face finder: the same steps as lib/faces/detector.ts (keep the two in step). Boxes and landmarks are in
   * the pixels of the (shrunk) detector input until detectFaces scales them to the photo's.
   */

  /**
   * One pass of the finder on the detector input framed for it: its faces (unframed) and its hint (BlazeFace's best
   * anchor score, else 0).
   */
  async function searchOnce(input, pass, det, engine) {
    var tensor = faceapi.tf.tensor3d(input.pixels.data, [input.pixels.height, input.pixels.width, 3], 'int32');
    try {
      var result =
        pass.detector === 'blaze'
          ? await blaze.findBlazeFaces(faceapi.tf, faceapi, engine.blazeFace, tensor, pass.minScore, det.blazeBoxScale)
          : await searchFaceApi(tensor, pass, det);
    } finally {
      tensor.dispose();
    }
    return {
      faces: result.faces.map(function (f) {
        return {
          box: crop.unframeBox(f.box, input.border),
          landmarks: crop.unframePoints(f.landmarks, input.border),
          score: f.score,
        };
      }),
      hint: result.hint,
    };
  }

  /** face-api's own detector and landmarks in one call. No hint. */
  async function searchFaceApi(tensor, pass, det) {
    var options =
      pass.detector === 'tiny'
        ? new faceapi.TinyFaceDetectorOptions({ inputSize: det.inputSize, scoreThreshold: pass.minScore })
        : new faceapi.SsdMobilenetv1Options({ minConfidence: pass.minScore });
    var found = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks(true);
    var faces = found.map(function (f) {
      var b = f.detection.box;
      return {
        box: { x: b.x, y: b.y, width: b.width, height: b.height },
        landmarks: f.landmarks.positions,
        score: f.detection.score,
      };
    });
    return { faces: faces, hint: 0 };
  }

  /** The passes in turn until one finds a face; a pass with needsHint only after a hint that high. */
  async function detectFaces(rgb, engine) {
    var det = model.detector;
    var input = crop.detectorInput(rgb, det.maxSide);
    var found = [];
    var hint = 0;
    // Passes with the same border search the same framed picture: frame it once (as the server does).
    var framings = { 0: { pixels: input.pixels, border: 0 } };
    for (var p = 0; p < det.passes.length && !found.length; p++) {
      var pass = det.passes[p];
      if (pass.needsHint !== undefined && hint < pass.needsHint) continue;
      if (!framings[pass.frame]) framings[pass.frame] = crop.framed(input.pixels, pass.frame);
      var result = await searchOnce(framings[pass.frame], pass, det, engine);
      found = result.faces;
      hint = Math.max(hint, result.hint);
    }
    return found
      .map(function (f) {
        var landmarks = crop.scalePoints(f.landmarks, input.scale);
        return { box: crop.scaleBox(f.box, input.scale), crop: crop.ffhqCropBox(landmarks), score: f.score };
      })
      .sort(function (a, b) {
        return b.crop.width - a.crop.width || a.crop.x - b.crop.x;
      });
  }

  /**
   * The face's square at the model's input size, resized as the server does (lib/faces/crop-resize.ts): PIL
   * nearest, or sharp's lanczos3 (cut out at its own size, then shrunk). A crop smaller than the input is
   * enlarged, which sharp does with an interpolator the page does not copy: such faces get a nearest enlargement
   * and their scores may differ a little from the server's.
   */
  function cropForModel(rgb, box, size) {
    if (model.resize !== 'lanczos3' || box.width < size || box.height < size)
      return crop.cropResizeNearest(rgb, box, size, size);
    var region = crop.cropAtOwnSize(rgb, box);
    return lanczos.shrinkLanczos3(region.data, region.width, region.height, size, size);
  }

  async function predictInBrowser(file, whole) {
    var engine = await loadBrowserEngine();
    var started = performance.now();
    var rgb = await decodeRgb(file);
    var regions = whole
      ? [{ box: crop.wholeImageBox(rgb), crop: crop.wholeImageBox(rgb), score: null }]
      : await detectFaces(rgb, engine);
    var faces = [];
    if (regions.length) {
      var size = model.imageSize;
      var pixels = size * size * 3;
      var batch = new Float32Array(regions.length * pixels);
      regions.forEach(function (r, i) {
        var px = cropForModel(rgb, r.crop, size);
        for (var j = 0; j < pixels; j++) batch[i * pixels + j] = px[j] / 255;
      });
      var out = await engine.session.run({ input: new ort.Tensor('float32', batch, [regions.length, size, size, 3]) });
      var scores = out.pFake.data;
      faces = regions.map(function (r, i) {
        var v = verdicts.verdictFor(scores[i], policy);
        return {
          box: r.box,
          crop: r.crop,
          detectorScore: r.score,
          verdict: v.verdict,
          confidence: v.confidence,
          pFake: v.pFake,
        };
      });
    }
    return {
      faces: faces,
      width: rgb.width,
      height: rgb.height,
      mode: whole ? 'whole' : 'detect',
      ms: Math.round(performance.now() - started),
      message: faces.length ? undefined : 'no face found',
    };
  }

  /* ---------- server inference ---------- */

  async function predictOnServer(file, whole) {
    var form = new FormData();
    form.append('image', file, file.name);
    var query = [whole ? 'faces=whole' : '', model && model.gradcam ? 'gradcam=1' : ''].filter(Boolean).join('&');
    var response = await fetch('api/v1/predict' + (query ? '?' + query : ''), { method: 'POST', body: form });
    var body = await response.json().catch(function () {
      return null;
    });
    if (!response.ok)
      throw new Error(body && body.error ? body.error.message : 'the server answered ' + response.status);
    return body;
  }

  /* ---------- results ---------- */

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function drawPhoto(canvas, file, result) {
    var bitmap = await createImageBitmap(file);
    var scale = Math.min(1, 960 / bitmap.width);
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    var ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    ctx.lineWidth = Math.max(2, canvas.width / 200);
    ctx.font = 'bold ' + Math.max(14, Math.round(canvas.width / 30)) + 'px system-ui, sans-serif';
    result.faces.forEach(function (f, i) {
      // A crop reaching past the photo's edge is drawn clipped to the photo, the line kept inside the canvas.
      var c = crop.clipBox(f.crop, result.width, result.height);
      var inset = ctx.lineWidth / 2;
      ctx.strokeStyle = { real: '#2fa85a', fake: '#e0382c', uncertain: '#b07d00' }[VERDICT_CLASS[f.verdict]];
      ctx.strokeRect(
        Math.max(inset, c.x * scale),
        Math.max(inset, c.y * scale),
        Math.min(canvas.width - inset, (c.x + c.width) * scale) - Math.max(inset, c.x * scale),
        Math.min(canvas.height - inset, (c.y + c.height) * scale) - Math.max(inset, c.y * scale),
      );
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(String(i + 1), c.x * scale + 6, c.y * scale + parseInt(ctx.font.split(' ')[1], 10) + 2);
    });
  }

  function faceItem(f, i, count) {
    var cls = VERDICT_CLASS[f.verdict];
    var li = el('li', { class: 'face', 'data-verdict': f.verdict, 'data-pfake': String(f.pFake) });
    li.appendChild(el('div', { class: 'verdict ' + cls }, (count > 1 ? 'Face ' + (i + 1) + ': ' : '') + f.verdict));
    var pct = (f.confidence * 100).toFixed(1);
    var bar = el('div', {
      class: 'bar ' + cls,
      role: 'meter',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': pct,
      'aria-label': 'confidence in this verdict',
    });
    var fill = el('span');
    fill.style.width = pct + '%';
    bar.appendChild(fill);
    li.appendChild(bar);
    li.appendChild(
      el(
        'div',
        {},
        'confidence ' +
          pct +
          ' % · pFake ' +
          f.pFake.toFixed(4) +
          ' · crop ' +
          f.crop.width +
          '×' +
          f.crop.height +
          ' at ' +
          f.crop.x +
          ',' +
          f.crop.y,
      ),
    );
    if (f.gradcam)
      li.appendChild(
        el('img', {
          class: 'gradcam',
          src: f.gradcam,
          alt: 'Grad-CAM heat map: where the model looked in face ' + (i + 1),
        }),
      );
    return li;
  }

  async function check(file) {
    var item = el('li', { 'data-status': 'working', 'data-file': file.name, 'data-mode': mode });
    // Videos: video.js (server mode only).
    if (window.realfakeVideo && window.realfakeVideo.isVideo(file)) {
      $('results').prepend(item);
      var ui = {
        el: el,
        VERDICT_CLASS: VERDICT_CLASS,
        policy: policy,
        verdicts: verdicts,
        finishItem: finishItem,
        failItem: failItem,
      };
      return window.realfakeVideo.check(file, mode, item, ui);
    }
    var figure = el('figure');
    var canvas = el('canvas', { role: 'img', 'aria-label': 'photo ' + file.name + ' with the faces found outlined' });
    figure.appendChild(canvas);
    var caption = el(
      'figcaption',
      {},
      file.name + ': checking ' + (mode === 'server' ? 'on the server' : 'in this browser') + '…',
    );
    figure.appendChild(caption);
    item.appendChild(figure);
    var faces = el('ol', { class: 'faces', 'aria-label': 'faces in ' + file.name });
    item.appendChild(faces);
    $('results').prepend(item);
    var whole = $('whole').checked;
    try {
      var result = mode === 'server' ? await predictOnServer(file, whole) : await predictInBrowser(file, whole);
      await drawPhoto(canvas, file, result);
      caption.textContent =
        file.name +
        ' (' +
        result.width +
        '×' +
        result.height +
        '), checked ' +
        (mode === 'server' ? 'on the server' : 'in this browser') +
        ' in ' +
        result.ms +
        ' ms';
      if (result.faces.length === 0)
        faces.appendChild(el('li', { class: 'face', 'data-verdict': 'none' }, 'No face found in this photo.'));
      result.faces.forEach(function (f, i) {
        faces.appendChild(faceItem(f, i, result.faces.length));
      });
      return finishItem(item, file, result, result.faces);
    } catch (err) {
      caption.textContent = file.name;
      return failItem(item, file, faces, err);
    }
  }

  /** Marks a results entry done (photo or video) and returns its status line: the file and each verdict. */
  function finishItem(item, file, result, found) {
    item.setAttribute('data-status', 'done');
    item.setAttribute('data-faces', String(found.length));
    item.realfakeResult = result;
    var called = found.map(function (f) {
      return f.verdict;
    });
    return file.name + ': ' + (called.length ? called.join(', ') : 'no face found');
  }

  /** Marks a results entry failed, says why at the end of `list`, and returns its status line. */
  function failItem(item, file, list, err) {
    item.setAttribute('data-status', 'error');
    list.appendChild(el('li', { class: 'error', role: 'alert' }, 'Could not check ' + file.name + ': ' + err.message));
    return file.name + ': error';
  }

  async function checkAll(files) {
    files = Array.prototype.filter.call(files, function (f) {
      return f.size > 0;
    });
    if (!files.length) return;
    say('Checking ' + files.length + ' photo' + (files.length > 1 ? 's' : '') + '…');
    var lines = [];
    for (var i = 0; i < files.length; i++) lines.push(await check(files[i]));
    say('Done. ' + lines.join('; '));
  }

  /* ---------- wiring ---------- */

  $('mode-server').disabled = !serverAvailable;
  if (!serverAvailable)
    $('mode-server').parentNode.title = 'no server: this page was opened as a file or served statically';
  $('mode-server').addEventListener('change', function () {
    setMode('server');
  });
  $('mode-browser').addEventListener('change', function () {
    setMode('browser');
  });
  $('pick').addEventListener('click', function () {
    $('file').click();
  });
  $('file').addEventListener('change', function (e) {
    checkAll(e.target.files).then(function () {
      e.target.value = '';
    });
  });
  var drop = $('drop');
  ['dragenter', 'dragover'].forEach(function (t) {
    drop.addEventListener(t, function (e) {
      e.preventDefault();
      drop.classList.add('over');
    });
  });
  ['dragleave', 'drop'].forEach(function (t) {
    drop.addEventListener(t, function (e) {
      e.preventDefault();
      drop.classList.remove('over');
    });
  });
  drop.addEventListener('drop', function (e) {
    checkAll(e.dataTransfer.files);
  });
  setMode(mode);
  describeModel();
  window.realfake = { setMode: setMode, checkAll: checkAll, loadBrowserEngine: loadBrowserEngine };
})();
