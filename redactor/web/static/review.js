// redactor review page: plain JavaScript, no framework, no build step. Every change is sent to
// the server at once, and the page shows what the server answers (the server's state is the truth:
// a reload loses nothing). Coordinates sent and received are pixels of the upright photo.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const state = {
  queue: [], current: null, data: null, selected: null, preview: false,
  W: 0, H: 0, scale: 1, tx: 0, ty: 0, drag: null, loadedId: null,
};

async function api(method, url, body) {
  const opts = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(url, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}

function say(text, isError) {
  const m = $("#message");
  m.textContent = text;
  m.className = "show" + (isError ? " error" : "");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { m.className = ""; }, isError ? 6000 : 2500);
}

async function run(action) {
  try { await action(); } catch (e) { say(e.message, true); }
}

// -- queue ---------------------------------------------------------------------------------

async function refreshQueue() {
  const q = await api("GET", "/api/queue");
  state.queue = q.items;
  $("#progress").textContent = q.analysed < q.total
    ? `analysing ${q.analysed}/${q.total}…`
    : `${q.items.filter((i) => i.status === "approved").length}/${q.total} approved`;
  const list = $("#queue-list");
  list.replaceChildren(...q.items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.dataset.status = item.status;
    li.textContent = item.name;
    const st = document.createElement("span");
    st.className = "status";
    st.textContent = item.status + (item.status === "failed" ? `: ${item.error}` : "");
    li.append(st);
    if (item.id === state.current) li.classList.add("current");
    li.addEventListener("click", () => run(() => openImage(item.id)));
    return li;
  }));
  if (!state.current && q.items.length) {
    const first = q.items.find((i) => i.status !== "approved") || q.items[0];
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
  setPreview(false);
  for (const li of document.querySelectorAll("#queue-list li")) li.classList.toggle("current", li.dataset.id === id);
  const item = state.queue.find((i) => i.id === id);
  $("#current-name").textContent = item ? item.name : "";
  if (!item || item.status === "pending" || item.status === "analysing" || item.status === "failed") {
    state.data = null;
    state.loadedId = null;
    $("#photo").removeAttribute("src");  // never leave the previous photo under this one's name
    delete document.body.dataset.loaded;
    drawRegions();
    $("#regions").replaceChildren();
    $("#counts").textContent = item ? `(${item.status})` : "";
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
  const item = state.queue.find((i) => i.id === data.id);
  if (item) item.status = data.status;
  const li = document.querySelector(`#queue-list li[data-id="${data.id}"]`);
  if (li) {
    li.dataset.status = data.status;
    li.querySelector(".status").textContent = data.status;
  }
  drawRegions();
  listRegions();
  $("#undo").disabled = !data.undo;
}

// -- drawing the outlines and the list ------------------------------------------------------

function classes(r) {
  return ["region", r.hidden ? "hidden" : "kept", r.source === "editor" ? "editor" : "auto",
    r.id === state.selected ? "selected" : ""].join(" ").trim();
}

function drawRegions() {
  const svg = $("#overlay");
  svg.replaceChildren();
  if (!state.data) return;
  for (const r of state.data.decisions.regions) {
    const p = document.createElementNS(SVG, "polygon");
    p.setAttribute("points", r.polygon.map(([x, y]) => `${x},${y}`).join(" "));
    p.setAttribute("class", classes(r));
    p.dataset.id = r.id;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${r.category}${r.text_masked ? ": " + r.text_masked : ""} (${r.hidden ? "hidden" : "kept"})`;
    p.append(title);
    svg.append(p);
  }
}

function listRegions() {
  const regions = state.data.decisions.regions;
  const hidden = regions.filter((r) => r.hidden).length;
  $("#counts").textContent = `${hidden} hidden, ${regions.length - hidden} kept — ${state.data.status}`;
  $("#regions").replaceChildren(...regions.map((r) => {
    const li = document.createElement("li");
    li.dataset.id = r.id;
    li.className = [r.hidden ? "hidden" : "kept", r.source === "editor" ? "editor" : "",
      r.id === state.selected ? "selected" : ""].join(" ").trim();
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = `${r.hidden ? "hidden" : "kept"} · ${r.category} · ${r.kind}`;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = r.text_masked || "";
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

function select(id) {
  state.selected = id;
  for (const el of document.querySelectorAll("#overlay .region, #regions li")) {
    el.classList.toggle("selected", el.dataset.id === id);
  }
  const li = document.querySelector(`#regions li[data-id="${id}"]`);
  if (li) li.scrollIntoView({ block: "nearest" });
}

// -- edits (each saved by the server at once) -----------------------------------------------

const base = () => `/api/images/${state.current}`;
const region = (id) => state.data.decisions.regions.find((r) => r.id === id);

async function toggle(id) {
  const r = region(id);
  if (!r) return;
  show(await api("POST", `${base()}/regions/${id}`, { hidden: !r.hidden }));
  select(id);
  refreshPreview();
}

async function addBox(box) {
  const data = await api("POST", `${base()}/regions`, { box, category: $("#category").value });
  show(data);
  select(data.added);
  refreshPreview();
}

async function remove(id) {
  show(await api("DELETE", `${base()}/regions/${id}`));
  refreshPreview();
}

async function hideEverywhere(id) {
  const data = await api("POST", `${base()}/regions/${id}/hide-everywhere`);
  show(data);
  say(`hid ${data.changed} line(s) with this text in this batch`);
  refreshPreview();
}

async function undo() {
  show(await api("POST", `${base()}/undo`));
  refreshPreview();
}

async function approve() {
  if (!state.data) return;
  const res = await api("POST", `${base()}/approve`);
  say(`approved: ${res.output} written`);
  state.queue = res.items;
  const i = res.items.findIndex((it) => it.id === state.current);
  const next = res.items.slice(i + 1).concat(res.items.slice(0, i)).find((it) => it.status !== "approved");
  await refreshQueue();
  if (next) await openImage(next.id);
  else await openImage(state.current);
}

function step(delta) {
  const ids = state.queue.map((i) => i.id);
  const i = ids.indexOf(state.current);
  const j = Math.min(ids.length - 1, Math.max(0, i + delta));
  if (j !== i) return openImage(ids[j]);
}

function setPreview(on) {
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
    if (d.region) run(() => toggle(d.region));
    return;
  }
  const [x, y] = toImage(e);
  const box = [Math.min(x, d.x0), Math.min(y, d.y0), Math.max(x, d.x0), Math.max(y, d.y0)].map((v) => Math.round(v));
  if (box[2] - box[0] >= 2 && box[3] - box[1] >= 2) run(() => addBox(box));
}

function onKey(e) {
  if (e.target.closest && e.target.closest("select, input, textarea")) return;
  const k = e.key;
  const act = {
    j: () => step(1), ArrowRight: () => step(1), k: () => step(-1), ArrowLeft: () => step(-1),
    t: () => state.selected && toggle(state.selected), a: approve, u: undo, v: () => setPreview(!state.preview),
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
  $("#preview").addEventListener("click", () => setPreview(!state.preview));
  $("#zoom-in").addEventListener("click", () => zoomCentre(1.25));
  $("#zoom-out").addEventListener("click", () => zoomCentre(0.8));
  $("#zoom-fit").addEventListener("click", fit);
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", fit);
  run(refreshQueue);
});
