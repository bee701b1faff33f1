// minigan playground: the page. It draws what the server's views send
// (minigan/playground/views.py) and sends the buttons and settings back; it computes
// no part of the training itself. No build step, no library, no network beyond
// the local server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { options: null, id: null, view: null, drawn: [], polling: false,
                busy: false, lastPoll: 0 };

// ------------------------------------------------------------------ server
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data;
  try { data = await r.json(); } catch (e) { data = { error: `HTTP ${r.status}` }; }
  if (!r.ok) {
    const err = new Error(data.error || `HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return data;
}

function showError(text) {
  const box = $("error");
  box.textContent = text || "";
  box.hidden = !text;
}

// ------------------------------------------------------------------ settings
function settingInputs() { return document.querySelectorAll("[data-setting]"); }

function buildControls(opts) {
  for (const el of settingInputs()) {
    const spec = opts.settings[el.dataset.setting];
    if (spec.kind === "choice") {
      for (const c of spec.choices) el.add(new Option(c, c));
    } else {
      el.min = spec.min; el.max = spec.max;
      if (spec.kind === "int" && !el.step) el.step = 1;
    }
    el.addEventListener("change", () => applySettings());
  }
  const preset = $("preset");
  preset.add(new Option("custom", ""));
  preset.add(new Option("playground default (small, fast)", "default"));
  for (const [key, p] of Object.entries(opts.presets)) preset.add(new Option(p.title, key));
  preset.addEventListener("change", () => {
    const s = preset.value === "default" ? defaults() : opts.presets[preset.value].settings;
    fillSettings(s);
    applySettings(true);
  });
  const speed = $("speed");
  for (const s of opts.speeds) speed.add(new Option(s ? `${s} steps/s` : "as fast as it goes", s));
  speed.value = "0";
  speed.addEventListener("change", () => act("speed"));
  for (const [key, text] of Object.entries(opts.where)) {
    const el = $(`where-${key}`);
    if (el) el.textContent = text;
  }
}

function defaults() {
  const s = {};
  for (const [k, spec] of Object.entries(state.options.settings)) s[k] = spec.default;
  return s;
}

function fillSettings(s) {
  for (const el of settingInputs()) {
    if (s[el.dataset.setting] !== undefined) el.value = s[el.dataset.setting];
  }
  $("draw-help").hidden = s.data !== "drawn";
}

function readSettings() {
  const s = {};
  for (const el of settingInputs()) {
    const spec = state.options.settings[el.dataset.setting];
    s[el.dataset.setting] = spec.kind === "choice" ? el.value : Number(el.value);
  }
  if (s.data === "drawn") s.points = state.drawn;
  return s;
}

async function applySettings(fromPreset) {
  if (!fromPreset) $("preset").value = "";
  const s = readSettings();
  $("draw-help").hidden = s.data !== "drawn";
  if (s.data === "drawn" && state.drawn.length === 0) {
    showError("draw some points on the plane first (click or drag), then press 'train on them'");
    return;
  }
  try {
    render(await api("POST", `/api/session/${state.id}/settings`, { settings: s }));
    showError("");
  } catch (e) { handleFailure(e); }
}

// ------------------------------------------------------------------ actions
async function act(action) {
  try {
    render(await api("POST", `/api/session/${state.id}/action`,
                     { action, speed: Number($("speed").value) }));
    if (action !== "play" && action !== "speed") showError(state.view.error || "");
  } catch (e) { handleFailure(e); }
}

async function handleFailure(e) {
  if (e.status === 404 && state.id) {          // the run was removed (a long-hidden tab)
    showError("this tab's run had stopped; a new one starts with the same settings");
    await startSession(readSettings());
  } else {
    showError(e.message);
  }
}

async function startSession(settings) {
  try {
    const v = await api("POST", "/api/session", { settings });
    state.id = v.id;
    render(v);
  } catch (e) {
    showError(e.message);
  }
}

async function poll() {
  if (!state.id || state.busy) return;
  state.busy = true;
  try {
    const v = await api("GET", `/api/session/${state.id}/view`);
    render(v);
    if (v.error) showError(v.error);
  } catch (e) {
    await handleFailure(e);
  } finally {
    state.busy = false;
  }
}

function loop() {
  // while playing, a view every 80 ms from the start of the last request (about 12
  // redraws a second if the server answers in time); paused, a heartbeat every 400 ms
  const playing = state.view && state.view.playing;
  const wait = Math.max(0, (playing ? 80 : 400) - (performance.now() - state.lastPoll));
  setTimeout(async () => { state.lastPoll = performance.now(); await poll(); loop(); }, wait);
}

// ------------------------------------------------------------------ drawing
const COLORS = { real: "rgb(27,158,62)", fake: "rgb(123,63,191)" };

function toPixel(extent, w, h) {
  const [x0, x1, y0, y1] = extent;
  return (x, y) => [(x - x0) / (x1 - x0) * w, (1 - (y - y0) / (y1 - y0)) * h];
}

function heatColor(t) {
  // t in [0, 1]: purple (D says fake) -> light grey -> green (D says real)
  const lo = [123, 63, 191], mid = [244, 244, 244], hi = [27, 158, 62];
  const [a, b, u] = t < 0.5 ? [lo, mid, t * 2] : [mid, hi, (t - 0.5) * 2];
  return a.map((v, i) => Math.round(v + (b[i] - v) * u));
}

function drawPlane(v) {
  const cv = $("plane"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const f = v.field, n = f.res;
  let lo = 0, hi = 1;
  if (!f.probability) {
    const vals = f.values.filter((x) => x !== null);
    lo = Math.min(...vals); hi = Math.max(...vals);
    if (hi - lo < 1e-9) hi = lo + 1;
  }
  $("field-kind").textContent = f.probability ? "P(real)" : "critic value";
  const off = document.createElement("canvas");
  off.width = n; off.height = n;
  const octx = off.getContext("2d"), img = octx.createImageData(n, n);
  for (let i = 0; i < n; i++) {              // row i of the field is y = ys[i] (upwards)
    for (let j = 0; j < n; j++) {
      const val = f.values[i * n + j];
      const t = val === null ? 0.5 : Math.min(1, Math.max(0, (val - lo) / (hi - lo)));
      const c = heatColor(t), k = ((n - 1 - i) * n + j) * 4;
      img.data[k] = c[0]; img.data[k + 1] = c[1]; img.data[k + 2] = c[2]; img.data[k + 3] = 255;
    }
  }
  octx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  // the field's values sit at cell centres: stretch by half a cell each side
  const cell = W / (n - 1);
  ctx.drawImage(off, -cell / 2, -cell / 2, W + cell, H + cell);

  const P = toPixel(v.extent, W, H);
  // G's manifold: the image of a grid of z, its rows and columns as lines
  const m = v.manifold.n, pts = v.manifold.points;
  ctx.strokeStyle = "rgba(50,50,50,0.35)"; ctx.lineWidth = 1;
  for (let dir = 0; dir < 2; dir++) {
    for (let a = 0; a < m; a++) {
      ctx.beginPath();
      for (let b = 0; b < m; b++) {
        const idx = dir ? b * m + a : a * m + b, [x, y] = P(pts[idx][0], pts[idx][1]);
        if (b) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.stroke();
    }
  }
  dots(ctx, P, v.fake, COLORS.fake, 2.2);
  dots(ctx, P, v.settings.data === "drawn" ? state.drawn : v.real, COLORS.real, 2.6, "#fff");
  // G's gradient arrows, the longest 28 pixels
  const arrows = v.arrows;
  let longest = 1e-12;
  for (const [dx, dy] of arrows) longest = Math.max(longest, Math.hypot(dx, dy));
  const scale = 28 / longest;
  ctx.strokeStyle = "#e07b00"; ctx.lineWidth = 1.3;
  for (let i = 0; i < arrows.length; i++) {
    const [x, y] = P(v.fake[i][0], v.fake[i][1]);
    const ex = x + arrows[i][0] * scale, ey = y - arrows[i][1] * scale;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(ex, ey);
    const ang = Math.atan2(ey - y, ex - x);
    if (Math.hypot(ex - x, ey - y) > 4) {
      ctx.lineTo(ex - 4 * Math.cos(ang - 0.5), ey - 4 * Math.sin(ang - 0.5));
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 4 * Math.cos(ang + 0.5), ey - 4 * Math.sin(ang + 0.5));
    }
    ctx.stroke();
  }
}

function dots(ctx, P, pts, color, r, outline) {
  ctx.fillStyle = color;
  ctx.strokeStyle = outline || color;
  ctx.lineWidth = 0.6;
  for (const p of pts) {
    const [x, y] = P(p[0], p[1]);
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
    if (outline) ctx.stroke();
  }
}

function chart(ctx, box, xs, series, title, fixed) {
  const [L, T, W, H] = box;
  ctx.strokeStyle = "#ccc"; ctx.strokeRect(L, T, W, H);
  ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(title, L + 4, T + 13);
  if (xs.length < 1) return;
  let lo = fixed ? fixed[0] : Infinity, hi = fixed ? fixed[1] : -Infinity;
  if (!fixed) for (const s of series) for (const y of s.ys) if (y !== null) {
    lo = Math.min(lo, y); hi = Math.max(hi, y);
  }
  if (!isFinite(lo)) return;
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
  const X = (x) => L + (x - x0) / (x1 - x0) * W, Y = (y) => T + H - (y - lo) / (hi - lo) * (H - 18);
  ctx.fillStyle = "#777";
  ctx.fillText(hi.toPrecision(3), L + W - 48, T + 13);
  ctx.fillText(lo.toPrecision(3), L + W - 48, T + H - 3);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.6; ctx.beginPath();
    let started = false;
    s.ys.forEach((y, i) => {
      if (y === null) { started = false; return; }
      if (started) ctx.lineTo(X(xs[i]), Y(y)); else ctx.moveTo(X(xs[i]), Y(y));
      started = true;
    });
    ctx.stroke();
    if (s.label) { ctx.fillStyle = s.color; ctx.fillText(s.label, L + 120 + s.offset, T + 13); }
  }
}

function drawCurves(v) {
  const c = v.curves;
  let cv = $("losses"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  chart(ctx, [0.5, 0.5, cv.width - 1, cv.height - 1], c.step,
        [{ ys: c.loss_d, color: "#d0661b", label: "L_D", offset: 0 },
         { ys: c.loss_g, color: COLORS.fake, label: "L_G", offset: 40 }], "loss over steps");
  cv = $("metrics"); ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const h = (cv.height - 2) / 3, w = cv.width - 1, K = v.metrics.n_modes;
  chart(ctx, [0.5, 0.5, w, h - 2], c.metric_step, [{ ys: c.modes, color: "#1b6ec2" }],
        `modes captured (of ${K})`, [0, K]);
  chart(ctx, [0.5, h + 0.5, w, h - 2], c.metric_step, [{ ys: c.high_quality, color: COLORS.real }],
        "high-quality fraction", [0, 1]);
  chart(ctx, [0.5, 2 * h + 0.5, w, h - 2], c.metric_step, [{ ys: c.reverse_kl, color: "#c0392b" }],
        "reverse KL (nats)", [0, Math.log(Math.max(K, 2))]);
  const m = v.metrics;
  $("metric-values").textContent = m.modes === undefined ? "" :
    `${m.modes}/${K} modes, ${(100 * m.high_quality).toFixed(1)}% high quality, ` +
    `reverse KL ${m.reverse_kl === null ? "undefined" : m.reverse_kl.toFixed(3)}`;
}

function render(v) {
  const fresh = !state.view || state.view.version !== v.version;
  state.view = v;
  $("step").textContent = v.step;
  $("d-updates").textContent = v.d_updates;
  $("g-updates").textContent = v.g_updates;
  $("lr-g").textContent = v.lr.g.toPrecision(2);
  $("lr-d").textContent = v.lr.d.toPrecision(2);
  const play = $("play");
  play.classList.toggle("playing", v.playing);
  play.innerHTML = v.playing ? "&#10073;&#10073; pause" : "&#9654; play";
  $("speed").value = String(v.speed);
  if (fresh) fillSettings(v.settings);
  if (v.settings.points && fresh) state.drawn = v.settings.points;
  for (const k of ["field"]) $(`where-${k}`).textContent = v.where[k];
  drawPlane(v);
  drawCurves(v);
  $("n-drawn").textContent = state.drawn.length;
}

// ------------------------------------------------------------------ drawing points
function planeCoords(ev) {
  const cv = $("plane"), r = cv.getBoundingClientRect();
  const box = state.options.draw_box;
  const x = ((ev.clientX - r.left) / r.width) * 2 * box - box;
  const y = box - ((ev.clientY - r.top) / r.height) * 2 * box;
  return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
}

function setupDrawing() {
  const cv = $("plane");
  let down = false;
  const add = (ev) => {
    if ($("draw-help").hidden) return;
    if (state.drawn.length >= state.options.max_points) {
      showError(`at most ${state.options.max_points} points`);
      return;
    }
    const [x, y] = planeCoords(ev), box = state.options.draw_box;
    if (Math.abs(x) > box || Math.abs(y) > box) return;
    state.drawn.push([x, y]);
    $("n-drawn").textContent = state.drawn.length;
    const ctx = cv.getContext("2d"), P = toPixel([-box, box, -box, box], cv.width, cv.height);
    dots(ctx, P, [[x, y]], COLORS.real, 3);
  };
  cv.addEventListener("mousedown", (ev) => { down = true; add(ev); });
  cv.addEventListener("mousemove", (ev) => { if (down && Math.random() < 0.5) add(ev); });
  window.addEventListener("mouseup", () => { down = false; });
  $("use-drawn").addEventListener("click", () => applySettings());
  $("clear-drawn").addEventListener("click", () => {
    state.drawn = []; $("n-drawn").textContent = "0";
  });
}

// ------------------------------------------------------------------ start
async function main() {
  state.options = await api("GET", "/api/options");
  buildControls(state.options);
  setupDrawing();
  $("play").addEventListener("click", () => act(state.view.playing ? "pause" : "play"));
  $("step-both").addEventListener("click", () => act("step"));
  $("step-d").addEventListener("click", () => act("d_step"));
  $("step-g").addEventListener("click", () => act("g_step"));
  $("reset").addEventListener("click", () => act("reset"));
  // closing the tab stops its run at once (the heartbeat's timeout is the fallback)
  window.addEventListener("pagehide", () => {
    if (state.id) navigator.sendBeacon(`/api/session/${state.id}/close`, "{}");
  });
  $("preset").value = "default";
  fillSettings(defaults());
  await startSession(defaults());
  loop();
}

main().catch((e) => showError(`the page could not start: ${e.message}`));
