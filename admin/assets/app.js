// qadmin's page: hash routes (#/topics, #/topic/T, #/topic/T/C, #/nodes, #/node/ADDR,
// #/lookup), each drawn from one /api call and redrawn every REFRESH_MS. Charts come from the
// "history" qadmin keeps (rate and depth over the last minutes), so they are full on load.
"use strict";

const BASE = window.QADMIN_BASE || "/";
const REFRESH_MS = 2000;

const $ = (sel, root = document) => root.querySelector(sel);

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function num(n) { return Number(n || 0).toLocaleString("en-US"); }
function rate(r) { return Number(r || 0).toFixed(1); }
function enc(s) { return encodeURIComponent(s); }
function ago(tsSeconds) {
  if (!tsSeconds) return "";
  const s = Math.max(0, Math.round(Date.now() / 1000 - tsSeconds));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}
function since(tsSeconds) {
  return tsSeconds ? new Date(tsSeconds * 1000).toLocaleString() + " (" + ago(tsSeconds) + " ago)" : "";
}
function paused(p) { return p ? ' <span class="badge paused" data-field="paused">paused</span>' : ""; }

async function api(path, options = {}) {
  const res = await fetch(BASE + "api/" + path, options);
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.message) || ("HTTP " + res.status));
    err.status = res.status;
    err.body = body;
    throw err;
  }
  return body;
}

// --- confirmation, toasts, errors -----------------------------------------------------------

function confirmAction(text) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  return new Promise(resolve => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

let toastTimer = null;
function toast(text, bad) {
  const t = $("#toast");
  t.textContent = text;
  t.className = "toast" + (bad ? " bad" : "");
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function showErrors(errors) {
  const box = $("#errors");
  if (!errors || errors.length === 0) {
    box.hidden = true;
    box.innerHTML = "";
    return;
  }
  box.hidden = false;
  box.innerHTML = errors.map(e =>
    `<div class="unreachable" data-node="${esc(e.node)}"><b>${esc(e.role === "lookupd" ? "qlookupd" : "qd")} ${esc(e.node)}</b> unreachable: ${esc(e.error)}</div>`).join("");
}

// Runs an admin action after the operator confirmed it, then redraws.
async function act(text, method, path, body) {
  if (!(await confirmAction(text))) return;
  try {
    const r = await api(path, {
      method,
      headers: {"Content-Type": "application/json"},
      body: body ? JSON.stringify(body) : undefined,
    });
    const failed = (r && r.errors) ? r.errors.length : 0;
    toast(failed ? `Done, but ${failed} node(s) failed` : "Done", failed > 0);
  } catch (e) {
    toast("Failed: " + e.message, true);
  }
  if (method === "DELETE" && !path.startsWith("nodes/")) {
    // The thing is gone: go one level up.
    const parts = path.split("/");
    location.hash = parts.length > 2 ? "#/topic/" + parts[1] : "#/topics";
  }
  refresh();
}

// --- charts ---------------------------------------------------------------------------------

// A line chart of points[key] over time on a <canvas>, sized for the screen's pixel ratio.
function drawChart(canvas, points, key, color) {
  if (!canvas) return;
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const left = 48, right = 8, top = 8, bottom = 20;
  const values = points.map(p => Number(p[key] || 0));
  let max = Math.max(1, ...values);
  const mag = Math.pow(10, Math.floor(Math.log10(max)));
  max = Math.ceil(max / mag) * mag;
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#667";
  g.strokeStyle = "#e3e6ea";
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + (h - top - bottom) * i / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
    const v = max * (4 - i) / 4;
    g.fillText(v >= 1000 ? (v / 1000).toFixed(v % 1000 ? 1 : 0) + "k" : String(+v.toFixed(1)), 4, y + 4);
  }
  if (points.length === 0) {
    g.fillText("collecting samples…", left + 8, top + 16);
    return;
  }
  const t0 = points[0].ts, t1 = Math.max(points[points.length - 1].ts, t0 + 1);
  const x = ts => left + (w - left - right) * (ts - t0) / (t1 - t0);
  const y = v => top + (h - top - bottom) * (1 - v / max);
  const minutes = (t1 - t0) / 60000;
  g.fillText(minutes >= 1 ? `-${minutes.toFixed(1)} min` : `-${Math.round((t1 - t0) / 1000)} s`, left, h - 4);
  g.fillText("now", w - right - 22, h - 4);
  g.beginPath();
  points.forEach((p, i) => (i ? g.lineTo : g.moveTo).call(g, x(p.ts), y(values[i])));
  g.strokeStyle = color;
  g.lineWidth = 2;
  g.stroke();
  g.lineTo(x(points[points.length - 1].ts), y(0));
  g.lineTo(x(t0), y(0));
  g.closePath();
  g.globalAlpha = 0.12;
  g.fillStyle = color;
  g.fill();
  g.globalAlpha = 1;
}

// Half messages (transactions, our extension): shown once the topic has had any.
const TX_FIELDS = [["tx_pending", "Pending"], ["tx_committed", "Committed"], ["tx_rolled_back", "Rolled back"],
  ["tx_expired", "Expired"]];
function txHtml(d) {
  if (!TX_FIELDS.some(([k]) => d[k] > 0)) return "";
  const cells = x => TX_FIELDS.map(([k]) => `<td data-field="${k}">${num(x[k])}</td>`).join("");
  return `<h2>Transactions</h2>
    <table class="grid" id="topic-tx"><thead><tr><th>Node</th>${TX_FIELDS.map(([, h]) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
    ${d.nodes.map(n => `<tr data-node="${esc(n.node)}"><td>${esc(n.node)}</td>${cells(n)}</tr>`).join("")}
    <tr data-node="total"><td><b>Total</b></td>${cells(d)}</tr></tbody></table>`;
}

function chartsHtml(depthCaption = "Depth") {
  return `<div class="charts">
    <figure><figcaption>Message rate (msg/s)</figcaption><canvas class="chart" id="chart-rate"></canvas></figure>
    <figure><figcaption>${esc(depthCaption)}</figcaption><canvas class="chart" id="chart-depth"></canvas></figure>
  </div>`;
}
function drawCharts(history) {
  drawChart($("#chart-rate"), history || [], "rate", "#2a7ae2");
  drawChart($("#chart-depth"), history || [], "depth", "#d9822b");
}

// --- views ----------------------------------------------------------------------------------
// Each view: frame() draws what stays (headings, forms, canvases) once per route; fill(data)
// redraws the live part every refresh; path is the /api path it reads.

const views = {
  topics: () => ({
    path: "topics",
    frame: () => `<h1>Topics</h1>${chartsHtml("Depth (topics + channels)")}<div id="live"></div>
      <section class="create"><h2>Create a topic</h2>
      <form id="create-form">
        <input name="topic" id="create-topic" placeholder="topic" required pattern="[.a-zA-Z0-9_\\-]+(#ephemeral)?">
        <input name="channel" id="create-channel" placeholder="channel (optional)">
        <button type="submit">Create via qlookupd</button>
      </form></section>`,
    bind: () => {
      $("#create-form").addEventListener("submit", ev => {
        ev.preventDefault();
        const topic = $("#create-topic").value.trim(), channel = $("#create-channel").value.trim();
        const body = channel ? {topic, channel} : {topic};
        act(`Create topic ${topic}${channel ? " with channel " + channel : ""}?`, "POST", "topics", body);
      });
    },
    fill: d => {
      drawCharts(d.history);
      return `<p class="summary">${num(d.topics.length)} topics on ${num(d.node_count)} nodes ·
          depth <b data-field="total-depth">${num(d.depth)}</b> · <b>${rate(d.rate)}</b> msg/s</p>
        <table class="grid" id="topics-table"><thead><tr><th>Topic</th><th>Depth</th><th>Messages</th>
        <th>Rate (msg/s)</th><th>Channels</th><th>Nodes</th></tr></thead><tbody>
        ${d.topics.map(t => `<tr data-topic="${esc(t.topic_name)}">
          <td><a href="#/topic/${enc(t.topic_name)}">${esc(t.topic_name)}</a>${paused(t.paused)}</td>
          <td data-field="depth">${num(t.depth)}</td><td data-field="message_count">${num(t.message_count)}</td>
          <td data-field="rate">${rate(t.rate)}</td>
          <td data-field="channels">${t.channels.map(c => `<a href="#/topic/${enc(t.topic_name)}/${enc(c)}">${esc(c)}</a>`).join(", ")}</td>
          <td data-field="node_count">${num(t.node_count)}</td></tr>`).join("") ||
          '<tr><td colspan="6" class="empty">No topics yet</td></tr>'}
        </tbody></table>`;
    },
  }),

  topic: (topic) => ({
    path: "topics/" + enc(topic),
    frame: () => `<p class="crumbs"><a href="#/topics">Topics</a> /</p>
      <h1>Topic <span class="name">${esc(topic)}</span><span id="paused-badge"></span></h1>
      <div class="actions">
        <button data-action="pause">Pause</button><button data-action="unpause">Unpause</button>
        <button data-action="empty" class="danger">Empty</button><button data-action="delete" class="danger">Delete</button>
      </div>${chartsHtml("Depth (topic + channels)")}<div id="live"></div>`,
    bind: () => bindActions(`topic ${topic}`, "topics/" + enc(topic)),
    fill: d => {
      drawCharts(d.history);
      $("#paused-badge").innerHTML = paused(d.paused);
      return `<p class="summary">depth <b data-field="depth">${num(d.depth)}</b> · messages <b data-field="message_count">${num(d.message_count)}</b>
          · <b>${rate(d.rate)}</b> msg/s</p>
        <h2>Nodes</h2>
        <table class="grid" id="topic-nodes"><thead><tr><th>Node</th><th>Depth</th><th>On disk</th><th>Messages</th>
        <th>Rate (msg/s)</th><th>Channels</th><th></th></tr></thead><tbody>
        ${d.nodes.map(n => `<tr data-node="${esc(n.node)}">
          <td><a href="#/node/${enc(n.node)}">${esc(n.node)}</a> <span class="muted">${esc(n.hostname)}</span>${paused(n.paused)}</td>
          <td data-field="depth">${num(n.depth)}</td><td data-field="backend_depth">${num(n.backend_depth)}</td>
          <td data-field="message_count">${num(n.message_count)}</td><td data-field="rate">${rate(n.rate)}</td>
          <td>${num(n.channel_count)}</td>
          <td><button class="small danger" data-tombstone="${esc(n.node)}" title="hide this producer from the lookupds">Tombstone</button></td></tr>`).join("") ||
          '<tr><td colspan="7" class="empty">No qd has this topic</td></tr>'}
        </tbody></table>
        ${txHtml(d)}
        <h2>Channels</h2>
        <table class="grid" id="topic-channels"><thead><tr><th>Channel</th><th>Depth</th><th>In flight</th><th>Deferred</th>
        <th>Requeued</th><th>Timed out</th><th>Messages</th><th>Rate (msg/s)</th><th>Clients</th></tr></thead><tbody>
        ${d.channels.map(c => `<tr data-channel="${esc(c.channel_name)}">
          <td><a href="#/topic/${enc(topic)}/${enc(c.channel_name)}">${esc(c.channel_name)}</a>${paused(c.paused)}</td>
          <td data-field="depth">${num(c.depth)}</td><td data-field="in_flight_count">${num(c.in_flight_count)}</td>
          <td data-field="deferred_count">${num(c.deferred_count)}</td><td data-field="requeue_count">${num(c.requeue_count)}</td>
          <td data-field="timeout_count">${num(c.timeout_count)}</td><td data-field="message_count">${num(c.message_count)}</td>
          <td data-field="rate">${rate(c.rate)}</td><td data-field="client_count">${num(c.client_count)}</td></tr>`).join("") ||
          '<tr><td colspan="9" class="empty">No channels</td></tr>'}
        </tbody></table>`;
    },
    after: () => {
      document.querySelectorAll("[data-tombstone]").forEach(b => b.addEventListener("click", () => {
        const node = b.dataset.tombstone;
        act(`Tombstone ${node} as a producer of ${topic}? Consumers stop being sent to it for the lookupds' tombstone lifetime.`,
          "POST", "nodes/" + enc(node), {action: "tombstone", topic});
      }));
    },
  }),

  channel: (topic, channel) => ({
    path: "topics/" + enc(topic) + "/" + enc(channel),
    frame: () => `<p class="crumbs"><a href="#/topics">Topics</a> / <a href="#/topic/${enc(topic)}">${esc(topic)}</a> /</p>
      <h1>Channel <span class="name">${esc(channel)}</span><span id="paused-badge"></span></h1>
      <div class="actions">
        <button data-action="pause">Pause</button><button data-action="unpause">Unpause</button>
        <button data-action="empty" class="danger">Empty</button><button data-action="delete" class="danger">Delete</button>
      </div>${chartsHtml()}<div id="live"></div>`,
    bind: () => bindActions(`channel ${channel} of ${topic}`, "topics/" + enc(topic) + "/" + enc(channel)),
    fill: d => {
      drawCharts(d.history);
      $("#paused-badge").innerHTML = paused(d.paused);
      return `<table class="grid totals" id="channel-totals"><thead><tr><th>Depth</th><th>In flight</th><th>Deferred</th>
        <th>Requeued</th><th>Timed out</th><th>Messages</th><th>Rate (msg/s)</th><th>Clients</th></tr></thead><tbody><tr>
        <td data-field="depth">${num(d.depth)}</td><td data-field="in_flight_count">${num(d.in_flight_count)}</td>
        <td data-field="deferred_count">${num(d.deferred_count)}</td><td data-field="requeue_count">${num(d.requeue_count)}</td>
        <td data-field="timeout_count">${num(d.timeout_count)}</td><td data-field="message_count">${num(d.message_count)}</td>
        <td data-field="rate">${rate(d.rate)}</td><td data-field="client_count">${num(d.client_count)}</td></tr></tbody></table>
        <h2>Nodes</h2>
        <table class="grid" id="channel-nodes"><thead><tr><th>Node</th><th>Depth</th><th>In flight</th><th>Deferred</th>
        <th>Requeued</th><th>Timed out</th><th>Messages</th><th>Clients</th></tr></thead><tbody>
        ${d.nodes.map(n => `<tr data-node="${esc(n.node)}"><td><a href="#/node/${enc(n.node)}">${esc(n.node)}</a>${paused(n.paused)}</td>
          <td data-field="depth">${num(n.depth)}</td><td>${num(n.in_flight_count)}</td><td>${num(n.deferred_count)}</td>
          <td>${num(n.requeue_count)}</td><td>${num(n.timeout_count)}</td><td>${num(n.message_count)}</td>
          <td>${num(n.client_count)}</td></tr>`).join("")}
        </tbody></table>
        <h2>Clients</h2>
        <table class="grid" id="channel-clients"><thead><tr><th>Client</th><th>Address</th><th>Node</th><th>User agent</th>
        <th>RDY</th><th>In flight</th><th>Finished</th><th>Requeued</th><th>Messages</th><th>Connected</th><th>TLS</th>
        <th>Compression</th></tr></thead><tbody>
        ${d.clients.map(c => `<tr data-client="${esc(c.remote_address)}">
          <td>${esc(c.hostname)} <span class="muted">${esc(c.client_id)}</span></td><td data-field="remote_address">${esc(c.remote_address)}</td>
          <td>${esc(c.node)}</td><td data-field="user_agent">${esc(c.user_agent)}</td>
          <td data-field="ready_count">${num(c.ready_count)}</td><td data-field="in_flight_count">${num(c.in_flight_count)}</td>
          <td data-field="finish_count">${num(c.finish_count)}</td><td data-field="requeue_count">${num(c.requeue_count)}</td>
          <td data-field="message_count">${num(c.message_count)}</td>
          <td data-field="connect_ts" title="${esc(since(c.connect_ts))}">${esc(ago(c.connect_ts))}</td>
          <td data-field="tls">${c.tls ? '<span class="badge ok">TLS</span>' : "–"}</td>
          <td data-field="compression">${c.snappy ? "snappy" : c.deflate ? "deflate" : "–"}</td></tr>`).join("") ||
          '<tr><td colspan="12" class="empty">No clients connected</td></tr>'}
        </tbody></table>`;
    },
  }),

  nodes: () => ({
    path: "nodes",
    frame: () => `<h1>Nodes</h1><div id="live"></div>`,
    fill: d => `<table class="grid" id="nodes-table"><thead><tr><th>Node</th><th>Hostname</th><th>Version</th><th>TCP port</th>
      <th>Topics</th><th>Depth</th><th>Messages</th><th>Clients</th><th>Status</th></tr></thead><tbody>
      ${d.nodes.map(n => `<tr data-node="${esc(n.address)}" class="${n.reachable ? "" : "down"}">
        <td><a href="#/node/${enc(n.address)}">${esc(n.address)}</a></td><td>${esc(n.hostname)}</td>
        <td data-field="version">${esc(n.version)}</td><td data-field="tcp_port">${esc(n.tcp_port)}</td>
        <td data-field="topics">${n.topics.map(t => `<a href="#/topic/${enc(t)}">${esc(t)}</a>`).join(", ")}</td>
        <td data-field="depth">${num(n.depth)}</td><td data-field="message_count">${num(n.message_count)}</td>
        <td data-field="client_count">${num(n.client_count)}</td>
        <td data-field="status">${n.reachable ? '<span class="badge ok">ok</span>' :
          `<span class="badge down" title="${esc(n.error)}">unreachable</span>`}</td></tr>`).join("") ||
        '<tr><td colspan="9" class="empty">No qd known</td></tr>'}
      </tbody></table>`,
  }),

  node: (address) => ({
    path: "nodes/" + enc(address),
    frame: () => `<p class="crumbs"><a href="#/nodes">Nodes</a> /</p><h1>Node <span class="name">${esc(address)}</span></h1><div id="live"></div>`,
    fill: d => `<dl class="facts">
        <dt>Status</dt><dd data-field="status">${d.reachable ? '<span class="badge ok">ok</span>' : `<span class="badge down">unreachable</span> ${esc(d.error)}`}</dd>
        <dt>Hostname</dt><dd>${esc(d.hostname)}</dd><dt>Version</dt><dd data-field="version">${esc(d.version)}</dd>
        <dt>TCP / HTTP port</dt><dd>${esc(d.tcp_port)} / ${esc(d.http_port)}</dd>
        <dt>Health</dt><dd>${esc(d.health)}</dd><dt>Started</dt><dd>${esc(since(d.start_time))}</dd>
        <dt>Depth</dt><dd data-field="depth">${num(d.depth)}</dd><dt>Clients</dt><dd>${num(d.client_count)}</dd></dl>
      <table class="grid" id="node-topics"><thead><tr><th>Topic / channel</th><th>Depth</th><th>In flight</th><th>Deferred</th>
      <th>Requeued</th><th>Timed out</th><th>Messages</th><th>Clients</th></tr></thead><tbody>
      ${d.topics.map(t => `<tr class="topic-row" data-topic="${esc(t.topic_name)}"><td><a href="#/topic/${enc(t.topic_name)}">${esc(t.topic_name)}</a>${paused(t.paused)}</td>
        <td data-field="depth">${num(t.depth)}</td><td></td><td></td><td></td><td></td><td data-field="message_count">${num(t.message_count)}</td><td></td></tr>
        ${t.channels.map(c => `<tr data-channel="${esc(c.channel_name)}"><td class="indent"><a href="#/topic/${enc(t.topic_name)}/${enc(c.channel_name)}">${esc(c.channel_name)}</a>${paused(c.paused)}</td>
          <td>${num(c.depth)}</td><td>${num(c.in_flight_count)}</td><td>${num(c.deferred_count)}</td><td>${num(c.requeue_count)}</td>
          <td>${num(c.timeout_count)}</td><td>${num(c.message_count)}</td><td>${num(c.client_count)}</td></tr>`).join("")}`).join("") ||
        '<tr><td colspan="8" class="empty">No topics</td></tr>'}
      </tbody></table>`,
  }),

  lookup: () => ({
    path: "lookup",
    frame: () => `<h1>Lookup</h1><p class="muted">What each qlookupd knows, tombstones included.</p><div id="live"></div>`,
    fill: d => (d.lookupds.length ? "" : '<p class="empty">qadmin was started with --nsqd-http-address: no qlookupd to show.</p>') +
      d.lookupds.map(l => `<section class="lookupd" data-lookupd="${esc(l.address)}">
      <h2>qlookupd ${esc(l.address)} ${l.ok ? '<span class="badge ok">ok</span>' : `<span class="badge down">unreachable</span> <span class="muted">${esc(l.error)}</span>`}</h2>
      ${l.ok ? `<table class="grid text"><thead><tr><th>Topic</th><th>Channels</th><th>Producers</th><th>Tombstoned</th></tr></thead><tbody>
        ${l.topics.map(t => `<tr data-topic="${esc(t.topic_name)}"><td><a href="#/topic/${enc(t.topic_name)}">${esc(t.topic_name)}</a></td>
          <td data-field="channels">${t.channels.map(esc).join(", ")}</td><td data-field="producers">${t.producers.map(esc).join(", ")}</td>
          <td data-field="tombstoned">${t.tombstoned.map(p => `<span class="badge tomb">${esc(p)}</span>`).join(" ")}</td></tr>`).join("") ||
          '<tr><td colspan="4" class="empty">No topics</td></tr>'}</tbody></table>
        <h3>Registered qd</h3><ul class="plain">${l.nodes.map(n => `<li><a href="#/node/${enc(n.address)}">${esc(n.address)}</a>
          <span class="muted">${esc(n.hostname)} v${esc(n.version)} · ${n.topics.length} topics</span></li>`).join("") || "<li class=\"empty\">none</li>"}</ul>` : ""}
      </section>`).join(""),
  }),
};

function bindActions(what, path) {
  document.querySelectorAll("[data-action]").forEach(b => b.addEventListener("click", () => {
    const action = b.dataset.action;
    if (action === "delete") return act(`Delete ${what}? Its messages are lost.`, "DELETE", path);
    const warn = action === "empty" ? " Every queued message is dropped." : "";
    act(`${action[0].toUpperCase() + action.slice(1)} ${what}?${warn}`, "POST", path, {action});
  }));
}

// --- routing and refresh --------------------------------------------------------------------

let current = null;   // {view, key}
let generation = 0;   // bumps on every route change, so a slow answer for an old route is ignored

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "topic": if (parts.length === 3) return ["channel", views.channel(parts[1], parts[2])];
                  if (parts.length === 2) return ["topic", views.topic(parts[1])];
                  break;
    case "node": if (parts.length >= 2) return ["node", views.node(parts.slice(1).join("/"))]; break;
    case "nodes": return ["nodes", views.nodes()];
    case "lookup": return ["lookup", views.lookup()];
  }
  return ["topics", views.topics()];
}

function navigate() {
  const [name, view] = route();
  generation++;
  current = view;
  document.querySelectorAll("[data-nav]").forEach(a =>
    a.classList.toggle("active", a.dataset.nav === name || (a.dataset.nav === "topics" && (name === "topic" || name === "channel")) ||
                                 (a.dataset.nav === "nodes" && name === "node")));
  document.body.dataset.view = name;
  $("#main").innerHTML = view.frame();
  if (view.bind) view.bind();
  refresh();
}

let inFlight = false, again = false;
async function refresh() {
  if (!current) return;
  // One request at a time; a refresh asked for meanwhile (after an action) runs right after.
  if (inFlight) { again = true; return; }
  inFlight = true;
  again = false;
  const view = current, gen = generation;
  try {
    const data = await api(view.path);
    if (gen !== generation) return;
    showErrors(data.errors);
    $("#live").innerHTML = view.fill(data);
    if (view.after) view.after();
    $("#status").textContent = "updated " + new Date().toLocaleTimeString();
    $("#status").className = "status";
    document.body.dataset.loaded = String(gen);
  } catch (e) {
    if (gen !== generation) return;
    $("#live").innerHTML = `<p class="empty" data-field="error">${esc(e.status === 404 ? "Not found" : e.message)}</p>`;
    $("#status").textContent = "refresh failed: " + e.message;
    $("#status").className = "status bad";
    document.body.dataset.loaded = String(gen);
  } finally {
    inFlight = false;
    if (again) refresh();
  }
}

window.addEventListener("hashchange", navigate);
window.addEventListener("resize", () => refresh());
setInterval(refresh, REFRESH_MS);
navigate();
