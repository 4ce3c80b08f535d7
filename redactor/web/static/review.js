// redactor review page: plain JavaScript, no framework, no build step. Every change is sent to
// the server at once, and the page shows what the server answers (the server's state is the truth:
// a reload loses nothing). Coordinates sent and received are pixels of the upright photo.
// Every edit and approval sends the revision of the image on screen; the server refuses (409) a
// page that shows an older state, and the page then reloads the image and says why.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const state = {
  queue: [], current: null, data: null, selected: null, preview: false, candidates: false,
  W: 0, H: 0, scale: 1, tx: 0, ty: 0, drag: null, loadedId: null, progress: null,
  // id -> the revision this tab last showed (what "approve all opened" approves); kept over a reload
  shown: JSON.parse(sessionStorage.getItem("redactor-shown") || "{}"),
};

class Conflict extends Error {}

async function api(method, url, body) {
  const opts = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(url, opts);
  const data = await r.json().catch(() => ({}));
  if (r.status === 409) throw new Conflict(data.error || "changed since this page showed it");
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}

// An edit of the image on screen, with the revision the page shows.
const edit = (method, url, body) => api(method, url, { ...(body || {}), revision: state.data.revision });

function say(text, isError) {
  const m = $("#message");
  m.textContent = text;
  m.className = "show" + (isError ? " error" : "");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { m.className = ""; }, isError ? 6000 : 2500);
}

async function run(action) {
  try {
    await action();
  } catch (e) {
    if (!(e instanceof Conflict)) { say(e.message, true); return; }
    // Another tab or editor changed it: show what the server holds now, then say why.
    state.data = null;
    await refreshQueue().catch(() => {});
    if (state.current && !state.data) await openImage(state.current).catch(() => {});
    say(`Reloaded: ${e.message}`, true);
    document.body.dataset.reloaded = String(Date.now());  // tests wait for this
  }
}

// -- queue ---------------------------------------------------------------------------------

async function refreshQueue() {
  const q = await api("GET", "/api/queue");
  state.queue = q.items;
  state.progress = q;
  const failed = q.failed ? ` · ${q.failed} failed (not written)` : "";
  $("#progress").textContent = (q.analysed < q.total ? `analysing ${q.analysed}/${q.total}… · ` : "") +
    `${q.approved}/${q.to_approve} approved${failed}`;
  const banner = $("#withdrawn");
  banner.hidden = !q.reapprove;
  banner.textContent = q.reapprove === 1 ? "1 approved image changed: its output was withdrawn, re-approve it"
    : `${q.reapprove} approved images changed: their outputs were withdrawn, re-approve them`;
  $("#done").hidden = !(q.to_approve && q.approved === q.to_approve && q.analysed === q.total);
  $("#done").textContent = `All ${q.approved} written. The review state (the text read from the photos) is in ` +
    `${q.state_dir}: delete it with redactor review -o ${q.outdir} --purge.`;
  const list = $("#queue-list");
  list.replaceChildren(...q.items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.dataset.status = item.status;
    li.textContent = item.name;
    const st = document.createElement("span");
    st.className = "status";
    st.textContent = item.reapprove ? "changed: re-approve" : item.status === "failed" ? "failed: not written" : item.status;
    li.append(st);
    if (item.id === state.current) li.classList.add("current");
    li.addEventListener("click", () => run(() => openImage(item.id)));
    return li;
  }));
  if (!state.current && q.items.length) {
    const first = q.items.find((i) => i.id === q.resume) || q.items.find((i) => i.status !== "approved") || q.items[0];
    await openImage(first.id);
  } else if (state.current && !state.data) {
    const cur = q.items.find((i) => i.id === state.current);
    if (cur && (cur.status === "ready" || cur.status === "approved")) await openImage(cur.id);
  }
  const busy = q.items.some((i) => i.status === "pending" || i.status === "analysing");
  clearTimeout(refreshQueue.timer);
  if (busy) refreshQueue.timer = setTimeout(() => run(refreshQueue), 1000);
}

async function openImage(id) {
  state.current = id;
  state.selected = null;
  compare(false);
  $("#toggle").disabled = true;
  setPreview(false);
  for (const li of document.querySelectorAll("#queue-list li")) li.classList.toggle("current", li.dataset.id === id);
  const item = state.queue.find((i) => i.id === id);
  $("#current-name").textContent = item ? item.name : "";
  const failure = $("#failure");
  failure.hidden = !(item && item.status === "failed");
  if (!item || item.status === "pending" || item.status === "analysing" || item.status === "failed") {
    state.data = null;
    drawRegions();
    $("#regions").replaceChildren();
    $("#counts").textContent = item ? `(${item.status})` : "";
    if (item && item.status === "failed") {
      $("#failure-error").textContent = item.error;
    } else if (item) {
      // The photo at once, its outlines when its analysis is done (nothing can be approved before).
      $("#counts").textContent = "(analysing: the regions appear when it is done)";
      api("GET", `/api/images/${id}/decisions`).catch(() => {});  // tells the server: analyse this one next
      if (state.loadedId !== id) {
        state.loadedId = null;
        $("#photo").removeAttribute("src");
        delete document.body.dataset.loaded;
        loadPhoto(`/api/images/${id}/image`, id);
      }
      return;
    }
    state.loadedId = null;
    $("#photo").removeAttribute("src");  // never leave the previous photo under this one's name
    delete document.body.dataset.loaded;
    return;
  }
  const data = await api("GET", `/api/images/${id}/decisions`);
  if (state.current !== id) return;
  show(data);
  if (state.loadedId !== id) loadPhoto(`/api/images/${id}/image`, id);
}

function loadPhoto(url, id) {
  const img = $("#photo");
  img.onload = () => {
    img.dataset.view = img.src.includes("/preview") ? "preview" : "original";  // tests wait for this
    if (state.loadedId === id) return;  // the preview or the original again: keep zoom and pan
    state.loadedId = id;
    state.W = img.naturalWidth;
    state.H = img.naturalHeight;
    $("#canvas").style.width = `${state.W}px`;
    $("#canvas").style.height = `${state.H}px`;
    const svg = $("#overlay");
    svg.setAttribute("width", state.W);
    svg.setAttribute("height", state.H);
    svg.setAttribute("viewBox", `0 0 ${state.W} ${state.H}`);
    fit();
    drawRegions();
    document.body.dataset.loaded = id;  // tests wait for this
    if (state.preview) setPreview(true);  // asked for while the photo was loading
  };
  img.src = url;
}

function show(data) {
  state.data = data;
  state.shown[data.id] = data.revision;
  sessionStorage.setItem("redactor-shown", JSON.stringify(state.shown));
  const item = state.queue.find((i) => i.id === data.id);
  if (item) item.status = data.status;
  const li = document.querySelector(`#queue-list li[data-id="${data.id}"]`);
  if (li) {
    li.dataset.status = data.status;
    li.querySelector(".status").textContent = data.reapprove ? "changed: re-approve" : data.status;
  }
  drawRegions();
  listRegions();
  $("#undo").disabled = !data.undo;
  if (data.withdrawn && data.withdrawn.length) {
    const n = data.withdrawn.length;
    say(`${n} approved image${n > 1 ? "s" : ""} changed (${data.withdrawn.join(", ")}): output withdrawn, re-approve`, true);
  }
  if (data.withdrawn !== undefined) run(refreshQueue);
}

// -- drawing the outlines and the list ------------------------------------------------------

function classes(r) {
  return ["region", r.hidden ? "hidden" : "kept", r.source === "editor" ? "editor" : "auto",
    r.id === state.selected ? "selected" : ""].join(" ").trim();
}

// What the page calls a region: a kept line the classifier found nothing in is "text, not personal"
// (its category is only the likeliest one, for an editor who hides it).
function label(r) {
  if (r.kind === "text" && r.source === "auto" && !r.hidden && !r.recognizer) return "text, not personal";
  return r.category;
}

// Plate candidates the OCR did not confirm are kept and no one would hide them: not drawn unless asked.
const drawn = () => state.data.decisions.regions.filter(
  (r) => state.candidates || !state.data.candidates.includes(r.id) || r.id === state.selected);

function drawRegions() {
  const svg = $("#overlay");
  svg.replaceChildren();
  if (!state.data) return;
  for (const r of drawn()) {
    const p = document.createElementNS(SVG, "polygon");
    p.setAttribute("points", r.polygon.map(([x, y]) => `${x},${y}`).join(" "));
    p.setAttribute("class", classes(r));
    p.dataset.id = r.id;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${label(r)}${r.text ? ": " + r.text : ""} (${r.hidden ? "hidden" : "kept"})`;
    p.append(title);
    svg.append(p);
  }
}

function listRegions() {
  const all = state.data.decisions.regions;
  const hidden = all.filter((r) => r.hidden).length;
  const n = state.data.candidates.length;
  $("#counts").textContent = `${hidden} hidden, ${all.length - hidden} kept` +
    (n && !state.candidates ? ` (${n} not drawn)` : "") + ` — ${state.data.status}`;
  $("#candidates").hidden = !n;
  $("#candidates").textContent = state.candidates ? `hide ${n} unconfirmed plate candidate${n > 1 ? "s" : ""}`
    : `show ${n} unconfirmed plate candidate${n > 1 ? "s" : ""} (kept)`;
  $("#candidates").setAttribute("aria-pressed", String(state.candidates));
  const regions = drawn();
  $("#regions").replaceChildren(...regions.map((r) => {
    const li = document.createElement("li");
    li.dataset.id = r.id;
    li.className = [r.hidden ? "hidden" : "kept", r.source === "editor" ? "editor" : "",
      r.id === state.selected ? "selected" : ""].join(" ").trim();
    const what = document.createElement("span");
    what.className = "what";
    const kind = r.kind === r.category || label(r).startsWith("text") ? "" : ` · ${r.kind}`;
    what.textContent = `${r.hidden ? "hidden" : "kept"} · ${label(r)}${kind}` +
      (r.hidden && r.action !== "fill" ? ` · ${r.action}` : "");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = r.text || r.text_masked || "";
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${r.id} · ${r.source} · ${r.detector}${r.recognizer ? " / " + r.recognizer : ""}` +
      (r.source === "auto" ? ` · score ${r.score}` : "");
    const buttons = document.createElement("div");
    buttons.append(button(r.hidden ? "keep" : "hide", "toggle", () => toggle(r.id)));
    if (r.kind === "text" && !r.hidden) {
      buttons.append(button("hide this text everywhere", "everywhere", () => hideEverywhere(r.id)));
    }
    if (r.source === "editor") buttons.append(button("delete", "delete", () => remove(r.id)));
    if (r.id === state.selected) buttons.append(chooser("category", CATEGORIES, r), chooser("action", ACTIONS, r));
    li.append(what, text, meta, buttons);
    li.addEventListener("click", () => select(r.id));
    return li;
  }));
}

function button(label, action, handler) {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.action = action;
  b.addEventListener("click", (e) => { e.stopPropagation(); run(handler); });
  return b;
}

const CATEGORIES = JSON.parse(document.querySelector('meta[name="categories"]').content);
const ACTIONS = JSON.parse(document.querySelector('meta[name="actions"]').content);

// A <select> that changes the selected region's category or how it is hidden.
function chooser(field, options, r) {
  const s = document.createElement("select");
  s.dataset.field = field;
  s.title = field === "action" ? "how it is hidden" : "category";
  s.append(...options.map((o) => new Option(o, o, false, o === r[field])));
  s.addEventListener("click", (e) => e.stopPropagation());
  s.addEventListener("change", () => run(async () => {
    show(await edit("PATCH", `${base()}/regions/${r.id}`, { [field]: s.value }));
    select(r.id);
    refreshPreview();
  }));
  return s;
}

// Select a region (the list and the photo in step); t, space or the toggle button hide/keep it.
function select(id) {
  const changed = state.selected !== id;
  state.selected = id;
  if (changed && state.data) { drawRegions(); listRegions(); }
  for (const el of document.querySelectorAll("#overlay .region, #regions li")) {
    el.classList.toggle("selected", el.dataset.id === id);
  }
  const li = document.querySelector(`#regions li[data-id="${id}"]`);
  if (li) li.scrollIntoView({ block: "nearest" });
  const r = id && state.data ? region(id) : null;
  $("#toggle").disabled = !r;
  $("#toggle").textContent = r ? `${r.hidden ? "keep" : "hide"} selected (t)` : "hide/keep selected (t)";
}

// -- edits (each saved by the server at once) -----------------------------------------------

const base = () => `/api/images/${state.current}`;
const region = (id) => state.data.decisions.regions.find((r) => r.id === id);

async function toggle(id) {
  const r = region(id);
  if (!r) return;
  state.selected = id;
  show(await edit("POST", `${base()}/regions/${id}`, { hidden: !r.hidden }));
  select(id);
  refreshPreview();
}

async function addBox(box) {
  const data = await edit("POST", `${base()}/regions`, { box, category: $("#category").value });
  show(data);
  select(data.added);
  refreshPreview();
}

async function remove(id) {
  show(await edit("DELETE", `${base()}/regions/${id}`));
  refreshPreview();
}

async function hideEverywhere(id) {
  const data = await edit("POST", `${base()}/regions/${id}/hide-everywhere`);
  show(data);
  if (!data.withdrawn.length) say(`hid ${data.changed} line(s) with this text in this batch`);
  refreshPreview();
}

async function undo() {
  if (!state.data) return;
  show(await edit("POST", `${base()}/undo`));
  refreshPreview();
}

const keptFaces = (regions) => regions.filter((r) => r.kind === "face" && !r.hidden).length;

async function approve() {
  const item = state.queue.find((i) => i.id === state.current);
  if (item && item.status === "failed") {
    say(`${item.name} could not be analysed: nothing can be approved or written for it (see the message on the photo)`, true);
    return;
  }
  if (!state.data) { say("this image is not analysed yet: wait for its regions, then approve", true); return; }
  const faces = keptFaces(state.data.decisions.regions);
  if (faces && !confirm(`${state.data.name}: ${faces} face${faces > 1 ? "s are" : " is"} kept visible. Approve and write it?`)) return;
  const res = await edit("POST", `${base()}/approve`);
  say(`approved: ${res.output} written`);
  state.queue = res.items;
  const i = res.items.findIndex((it) => it.id === state.current);
  const next = res.items.slice(i + 1).concat(res.items.slice(0, i)).find((it) => it.status === "ready" || it.status === "pending" || it.status === "analysing");
  await refreshQueue();
  if (next) await openImage(next.id);
  else await openImage(state.current);
}

// Approve every image the editor has opened and not approved, at the revision the queue shows.
async function approveAll() {
  const ready = state.queue.filter((i) => i.status === "ready" && i.id in state.shown);
  const unseen = state.queue.filter((i) => i.status === "ready" && !(i.id in state.shown)).length;
  if (!ready.length) { say(unseen ? `open each image before approving it (${unseen} not opened yet)` : "nothing left to approve", true); return; }
  const faces = ready.reduce((n, i) => n + i.kept_faces, 0);
  const ask = `Approve and write ${ready.length} image${ready.length > 1 ? "s" : ""} you have opened` +
    (faces ? `, with ${faces} face${faces > 1 ? "s" : ""} kept visible` : "") +
    (unseen ? ` (${unseen} not opened yet stay to review)` : "") + "?";
  if (!confirm(ask)) return;
  const res = await api("POST", "/api/approve-all", { revisions: Object.fromEntries(ready.map((i) => [i.id, state.shown[i.id]])) });
  const skipped = res.skipped.map((s) => `${s.name} (${s.why})`).join(", ");
  say(`approved ${res.approved.length}` + (skipped ? `; not approved: ${skipped}` : ""), Boolean(skipped));
  await refreshQueue();
  await openImage(state.current);
}

function step(delta) {
  const ids = state.queue.map((i) => i.id);
  const i = ids.indexOf(state.current);
  const j = Math.min(ids.length - 1, Math.max(0, i + delta));
  if (j !== i) return openImage(ids[j]);
}

// Hold c (or the compare button) to see the other view: the original in preview, the output otherwise.
function compare(on) {
  const img = $("#compare");
  if (!on || !state.data || state.loadedId !== state.current) {
    img.hidden = true;
    $("#compare-button").setAttribute("aria-pressed", "false");
    return;
  }
  $("#compare-button").setAttribute("aria-pressed", "true");
  img.onload = () => { if ($("#compare-button").getAttribute("aria-pressed") === "true") img.hidden = false; };
  img.dataset.view = state.preview ? "original" : "preview";
  img.src = state.preview ? `${base()}/image` : `${base()}/preview?at=${Date.now()}`;
}

function setPreview(on) {
  if (on && !state.data) { say("not analysed yet: the preview comes with its regions", true); on = false; }
  state.preview = on;
  $("#preview").setAttribute("aria-pressed", String(on));
  $("#overlay").classList.toggle("off", on);
  if (state.current && state.loadedId === state.current) {
    $("#photo").src = on ? `${base()}/preview?at=${Date.now()}` : `${base()}/image`;
  }
}

function refreshPreview() {
  if (state.preview) setPreview(true);
}

// -- zoom, pan, draw ------------------------------------------------------------------------

function applyTransform() {
  $("#canvas").style.transform = `translate(${state.tx}px, ${state.ty}px) scale(${state.scale})`;
}

function fit() {
  const v = $("#viewport").getBoundingClientRect();
  if (!state.W) return;
  state.scale = Math.min(v.width / state.W, v.height / state.H);
  state.tx = (v.width - state.W * state.scale) / 2;
  state.ty = (v.height - state.H * state.scale) / 2;
  applyTransform();
}

function zoomAt(factor, cx, cy) {
  const s = Math.min(20, Math.max(0.02, state.scale * factor));
  state.tx = cx - ((cx - state.tx) * s) / state.scale;
  state.ty = cy - ((cy - state.ty) * s) / state.scale;
  state.scale = s;
  applyTransform();
}

function toImage(e) {
  const v = $("#viewport").getBoundingClientRect();
  return [(e.clientX - v.left - state.tx) / state.scale, (e.clientY - v.top - state.ty) / state.scale];
}

function onPointerDown(e) {
  if (!state.data || state.preview) return;
  const v = $("#viewport");
  v.setPointerCapture(e.pointerId);
  if (e.button === 1 || e.shiftKey) {
    state.drag = { mode: "pan", x: e.clientX, y: e.clientY, tx: state.tx, ty: state.ty };
    v.classList.add("panning");
    return;
  }
  if (e.button !== 0) return;
  const target = e.target.closest ? e.target.closest("polygon.region") : null;
  const [x, y] = toImage(e);
  state.drag = { mode: "draw", x0: x, y0: y, sx: e.clientX, sy: e.clientY, region: target ? target.dataset.id : null };
}

function onPointerMove(e) {
  const d = state.drag;
  if (!d) return;
  if (d.mode === "pan") {
    state.tx = d.tx + e.clientX - d.x;
    state.ty = d.ty + e.clientY - d.y;
    applyTransform();
    return;
  }
  if (Math.hypot(e.clientX - d.sx, e.clientY - d.sy) < 4) return;
  const [x, y] = toImage(e);
  if (!d.rect) {
    d.rect = document.createElementNS(SVG, "rect");
    d.rect.setAttribute("class", "drawing");
    $("#overlay").append(d.rect);
  }
  d.rect.setAttribute("x", Math.min(x, d.x0));
  d.rect.setAttribute("y", Math.min(y, d.y0));
  d.rect.setAttribute("width", Math.abs(x - d.x0));
  d.rect.setAttribute("height", Math.abs(y - d.y0));
}

function onPointerUp(e) {
  const d = state.drag;
  state.drag = null;
  $("#viewport").classList.remove("panning");
  if (!d || d.mode !== "draw") return;
  if (d.rect) d.rect.remove();
  const moved = Math.hypot(e.clientX - d.sx, e.clientY - d.sy) >= 4;
  if (!moved) {
    if (d.region) select(d.region);  // a click selects; t, space or the button toggles
    return;
  }
  const [x, y] = toImage(e);
  const box = [Math.min(x, d.x0), Math.min(y, d.y0), Math.max(x, d.x0), Math.max(y, d.y0)].map((v) => Math.round(v));
  if (box[2] - box[0] >= 2 && box[3] - box[1] >= 2) run(() => addBox(box));
}

function onKey(e) {
  if (e.target.closest && e.target.closest("select, input, textarea")) return;
  const k = e.key;
  if (k === "Escape") { $("#help").hidden = true; return; }
  if (k === "c") { e.preventDefault(); if (!e.repeat) compare(true); return; }
  const act = {
    j: () => step(1), ArrowRight: () => step(1), k: () => step(-1), ArrowLeft: () => step(-1),
    t: () => state.selected && toggle(state.selected), " ": () => state.selected && toggle(state.selected),
    a: approve, A: approveAll, u: undo, v: () => setPreview(!state.preview), "?": () => { $("#help").hidden = !$("#help").hidden; },
    p: () => toggleCandidates(),
    Delete: () => state.selected && region(state.selected)?.source === "editor" && remove(state.selected),
    "+": () => zoomCentre(1.25), "=": () => zoomCentre(1.25), "-": () => zoomCentre(0.8), 0: fit,
  }[k];
  if ((e.ctrlKey || e.metaKey) && k === "z") {
    e.preventDefault();
    run(undo);
    return;
  }
  if (act && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    run(async () => act());
  }
}

function toggleCandidates() {
  state.candidates = !state.candidates;
  if (state.data) { drawRegions(); listRegions(); }
}

function zoomCentre(f) {
  const v = $("#viewport").getBoundingClientRect();
  zoomAt(f, v.width / 2, v.height / 2);
}

document.addEventListener("DOMContentLoaded", () => {
  const v = $("#viewport");
  v.addEventListener("pointerdown", onPointerDown);
  v.addEventListener("pointermove", onPointerMove);
  v.addEventListener("pointerup", onPointerUp);
  v.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = v.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  $("#prev").addEventListener("click", () => run(() => step(-1)));
  $("#next").addEventListener("click", () => run(() => step(1)));
  $("#undo").addEventListener("click", () => run(undo));
  $("#approve").addEventListener("click", () => run(approve));
  $("#approve-all").addEventListener("click", () => run(approveAll));
  $("#toggle").addEventListener("click", () => run(async () => state.selected && toggle(state.selected)));
  $("#candidates").addEventListener("click", toggleCandidates);
  $("#help-button").addEventListener("click", () => { $("#help").hidden = !$("#help").hidden; });
  $("#help").addEventListener("click", () => { $("#help").hidden = true; });
  const cmp = $("#compare-button");
  cmp.addEventListener("pointerdown", () => compare(true));
  for (const ev of ["pointerup", "pointerleave"]) cmp.addEventListener(ev, () => compare(false));
  document.addEventListener("keyup", (e) => { if (e.key === "c") compare(false); });
  $("#preview").addEventListener("click", () => setPreview(!state.preview));
  $("#zoom-in").addEventListener("click", () => zoomCentre(1.25));
  $("#zoom-out").addEventListener("click", () => zoomCentre(0.8));
  $("#zoom-fit").addEventListener("click", fit);
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", fit);
  run(refreshQueue);
});
