// reactord status page: fetches /api/*.json (protobuf JSON of the Inspect RPCs) every second
// and renders it. The connection list is paged by id (start) and filtered; both live in the
// URL fragment, so a page link or a filter is a link that can be followed, reloaded, shared.
// A token (needed when the page is served beyond loopback) comes once as #token=... and is
// kept in sessionStorage, then sent as "Authorization: Bearer".
"use strict";

const PAGE_SIZE = 50;
const EVENT_ROWS = 200;
const $ = (id) => document.getElementById(id);

function params() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (p.has("token")) {  // keep it out of the address bar and history
    sessionStorage.setItem("reactord-token", p.get("token"));
    p.delete("token");
    history.replaceState(null, "", "#" + p.toString());
  }
  return p;
}

async function api(path, query) {
  const headers = {};
  const token = sessionStorage.getItem("reactord-token");
  if (token) headers.Authorization = "Bearer " + token;
  const url = "api/" + path + (query && query.toString() ? "?" + query.toString() : "");
  const response = await fetch(url, { headers, cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${body.error || ""}`);
  return body;
}

const num = (v) => Number(v || 0);
const fmtInt = (v) => num(v).toLocaleString("en-US");
function fmtBytes(v) {
  let n = num(v);
  for (const unit of ["B", "KiB", "MiB", "GiB"]) {
    if (n < 1024 || unit === "GiB") return (unit === "B" ? n : n.toFixed(1)) + " " + unit;
    n /= 1024;
  }
}
function fmtMs(v) {
  const ms = num(v);
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 3600000) return (ms / 60000).toFixed(1) + " min";
  return (ms / 3600000).toFixed(1) + " h";
}
const fmtUs = (v) => (num(v) < 1000 ? num(v) + " µs" : fmtMs(Math.round(num(v) / 1000)));
const lower = (enumName, prefix) => String(enumName || "").replace(prefix, "").toLowerCase();

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = c;
    tr.appendChild(td);
  }
  return tr;
}
function fill(tbody, rows) { tbody.replaceChildren(...rows.map(row)); }

function renderInfo(info) {
  $("version").textContent = info.version;
  const state = lower(info.state, "SERVER_STATE_");
  $("state-badge").textContent = state + (info.accepting ? ", accepting" : ", not accepting");
  $("state-badge").className = "badge " + state;
  $("pid").textContent = info.pid;
  $("uptime").textContent = fmtMs(info.uptimeMs);
  $("listen").textContent = (info.listenAddresses || []).join(", ") + " (control " + info.controlAddress + ")";
  $("backend").textContent = info.backend + ", " + info.loops + " loop(s)";
  $("connections").textContent = fmtInt(info.connections);
  $("connections-total").textContent = fmtInt(info.connectionsTotal);
  $("log-level").textContent = info.logLevel || "";
  // proto3 JSON leaves zeros out; 64-bit numbers come as strings.
  const lastReload = Number(info.lastReloadUnixMs || 0);
  $("reloads").textContent = `${fmtInt(Number(info.reloadsOk || 0))} ok, ${fmtInt(Number(info.reloadsFailed || 0))} failed` +
    (lastReload ? `; last ${new Date(lastReload).toISOString()} (${info.lastReloadOk ? "ok" : "failed"})` : "");
  $("limits").textContent = Object.entries(info.limits || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  $("build").textContent = info.build;
}

function renderLoops(stats) {
  fill($("loops-body"), (stats.loops || []).map((l) => [
    l.loop, fmtInt(l.connections), fmtInt(l.iterations), fmtInt(l.callbacks), fmtUs(l.pollWaitUs),
    fmtUs(l.callbackTimeUs), fmtUs(l.longestCallbackUs),
    `${fmtInt(l.events?.initialized)} / ${fmtInt(l.events?.pending)} / ${fmtInt(l.events?.active)}`]));
}

function connQuery(p) {
  const q = new URLSearchParams();
  q.set("start_id", p.get("start") || "0");
  q.set("max_results", String(PAGE_SIZE));
  for (const key of ["peer", "loop", "state", "min_idle_ms"]) if (p.get(key)) q.set(key, p.get(key));
  return q;
}

function renderConns(p, list) {
  const conns = list.connections || [];
  fill($("conns-body"), conns.map((c) => [
    c.id, c.loop, c.peerAddress, lower(c.state, "CONNECTION_STATE_"), fmtMs(c.ageMs), fmtMs(c.idleMs),
    fmtBytes(c.bytesIn), fmtBytes(c.bytesOut), fmtBytes(num(c.inputBuffered) + num(c.outputBuffered)),
    c.tcpInfo?.valid ? fmtUs(c.tcpInfo.rttUs) : "-"]));
  const start = num(p.get("start"));
  const last = conns.length ? num(conns[conns.length - 1].id) : start;
  $("page-label").textContent = conns.length
    ? `ids ${conns[0].id}–${last} (${conns.length} shown${list.end ? ", last page" : ""})`
    : "no connection matches";
  const link = (startId) => { const q = new URLSearchParams(p); q.set("start", String(startId)); return "#" + q; };
  $("page-first").href = link(0);
  $("page-first").setAttribute("aria-disabled", String(start === 0));
  $("page-next").href = link(last + 1);
  $("page-next").setAttribute("aria-disabled", String(Boolean(list.end) || conns.length === 0));
}

function renderEvents(list) {
  const events = list.events || [];
  const c = list.counts || {};
  $("event-counts").textContent = `${fmtInt(events.length)} events: ${fmtInt(c.initialized)} initialized, ` +
    `${fmtInt(c.pending)} pending, ${fmtInt(c.active)} active` +
    (events.length > EVENT_ROWS ? ` (first ${EVENT_ROWS} shown)` : "");
  fill($("events-body"), events.slice(0, EVENT_ROWS).map((e) => [
    e.loop, e.id, lower(e.kind, "EVENT_KIND_"), e.fd, e.requested, lower(e.state, "EVENT_STATE_"),
    e.label, e.owner === "0" ? "" : e.owner]));
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  const p = params();
  try {
    const [info, stats, conns, events] = await Promise.all([
      api("info.json"), api("stats.json"), api("connections.json", connQuery(p)), api("events.json")]);
    renderInfo(info);
    renderLoops(stats);
    renderConns(p, conns);
    renderEvents(events);
    $("error").hidden = true;
    $("refreshed").textContent = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    document.body.dataset.refreshes = String(num(document.body.dataset.refreshes) + 1);
  } catch (e) {
    $("error").textContent = e.message;
    $("error").hidden = false;
  } finally {
    busy = false;
  }
}

function showFilterFromUrl() {
  const p = params();
  $("f-peer").value = p.get("peer") || "";
  $("f-loop").value = p.get("loop") || "";
  $("f-state").value = p.get("state") || "";
  $("f-min-idle").value = p.get("min_idle_ms") || "";
}

$("filter").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const [key, value] of new FormData($("filter"))) if (value) q.set(key, value);
  location.hash = q.toString();  // a new filter starts at the first page
});
$("f-clear").addEventListener("click", (ev) => { ev.preventDefault(); location.hash = ""; });
window.addEventListener("hashchange", () => { showFilterFromUrl(); refresh(); });
setInterval(() => { if ($("live").checked) refresh(); }, 1000);
showFilterFromUrl();
refresh();
