// The live what-if page: levers in, paired answers out. Everything is drawn with
// textContent (names come from scenario files), nothing is fetched from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { levers: [], values: {}, job: null, shown: -1, figures: {} };

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function money(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x), s = x < 0 ? "−" : "";
  if (a >= 1e9) return `${s}$${(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${s}$${(a / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${s}$${(a / 1e3).toFixed(0)}k`;
  return `${s}$${a.toFixed(0)}`;
}
function signed(x, f) { return x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + f(x); }
function num(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}
// A row says what its numbers are (the server's share and unit); a difference of
// two shares is in percentage points.
function format(row, x, difference = false) {
  if (x === null || x === undefined) return "–";
  if (row.unit === "USD") return money(x);
  if (row.share) return `${(100 * x).toFixed(1)}${difference ? " pp" : "%"}`;
  return num(x);
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body;
  try { body = await response.json(); } catch { body = { problems: [`the server answered ${response.status}`] }; }
  return { ok: response.ok, body };
}

function showProblems(problems) {
  const box = $("problems");
  box.hidden = !problems || !problems.length;
  box.textContent = problems && problems.length ? problems.join("\n") : "";
}

// ------------------------------------------------------------------ levers

function leverValueText(lever, value) {
  if (value === null) return "off";
  if (lever.kind === "choice") return String(value).replaceAll("_", " ");
  const unit = lever.unit === "USD per week" ? "USD/week" : lever.unit;
  return `${lever.integer ? value : Number(value).toLocaleString()}${unit ? " " + unit : ""}`;
}

function drawLevers() {
  const box = $("levers");
  box.replaceChildren();
  for (const lever of state.levers) {
    const row = el("div", { class: "lever", "data-key": lever.key, title: lever.help });
    const name = el("div", { class: "name" });
    const out = el("output");
    name.append(el("span", {}, lever.label), out);
    row.append(name);
    const current = () => (lever.key in state.values ? state.values[lever.key] : lever.value);
    const refresh = () => {
      out.textContent = leverValueText(lever, current());
      row.classList.toggle("changed", lever.key in state.values && state.values[lever.key] !== lever.value);
    };
    if (lever.kind === "choice") {
      const select = el("select", { "aria-label": lever.label });
      for (const word of lever.choices) select.append(el("option", { value: word }, word.replaceAll("_", " ")));
      select.value = current();
      select.addEventListener("change", () => { state.values[lever.key] = select.value; refresh(); submit(); });
      row.append(select);
    } else {
      const v = current();
      const slider = el("input", {
        type: "range", min: lever.min, max: lever.max, step: lever.step,
        value: v === null ? lever.min : v, "aria-label": lever.label, name: lever.key,
      });
      slider.disabled = v === null;
      slider.addEventListener("input", () => { out.textContent = leverValueText(lever, Number(slider.value)); });
      slider.addEventListener("change", () => { state.values[lever.key] = Number(slider.value); refresh(); submit(); });
      row.append(slider);
      if (lever.optional) {
        const label = el("label", { class: "off" });
        const box = el("input", { type: "checkbox" });
        box.checked = v === null;
        box.addEventListener("change", () => {
          slider.disabled = box.checked;
          state.values[lever.key] = box.checked ? null : Number(slider.value);
          refresh(); submit();
        });
        label.append(box, document.createTextNode(" none (switched off)"));
        row.append(label);
      }
    }
    refresh();
    box.append(row);
  }
}

async function loadLevers(keep) {
  const { ok, body } = await api(`/api/levers?design=${encodeURIComponent($("design").value)}`);
  if (!ok) { showProblems(body.problems); return; }
  state.levers = body;
  if (!keep) state.values = {};
  drawLevers();
}

// ------------------------------------------------------------------ running

function request() {
  const levers = {};
  for (const lever of state.levers) {
    if (lever.key in state.values && state.values[lever.key] !== lever.value) levers[lever.key] = state.values[lever.key];
  }
  return { baseline: $("baseline").value, design: $("design").value, pairs: Number($("pairs").value), levers };
}

async function submit() {
  const { ok, body } = await api("/api/run", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request()),
  });
  if (!ok) { showProblems(body.problems); return; }
  showProblems([]);
  refreshHistory();
  follow(body);
}

async function follow(answer) {
  const job = answer.job;
  state.job = job;
  state.shown = -1;
  render(answer);
  let version = answer.version;
  while (state.job === job && answer.status === "running") {
    const { ok, body } = await api(`/api/answer/${job}?after=${version}&wait=15`);
    if (state.job !== job) return;
    if (!ok) { showProblems(body.problems); return; }
    answer = body;
    version = answer.version;
    render(answer);
  }
  refreshHistory();
}

// ------------------------------------------------------------------ the answer

function card(row, title) {
  const c = el("div", { class: "card" });
  c.append(el("div", { class: "what" }, title));
  const d = row.difference;
  c.append(el("div", { class: "diff " + (d > 0 ? "up" : d < 0 ? "down" : "") }, signed(d, money)));
  const ci = row.ci_low === null ? "95% interval: needs two pairs" :
    `95% interval ${signed(row.ci_low, money)} to ${signed(row.ci_high, money)}`;
  c.append(el("div", { class: "ci" }, ci));
  c.append(el("div", { class: "note" },
    `baseline ${money(row.baseline_mean)} → design ${money(row.design_mean)}; design better in ${
      row.p_improves === null ? "–" : Math.round(100 * row.p_improves) + "%"} of pairs`));
  if (row.ci_low !== null) {
    const lo = Math.min(row.ci_low, 0), hi = Math.max(row.ci_high, 0);
    const pad = (hi - lo) * 0.15 || 1, a = lo - pad, w = hi + pad - a;
    const pos = (x) => `${(100 * (x - a)) / w}%`;
    const bar = el("div", { class: "interval", title: "the 95% interval; the grey line is no difference" });
    const span = el("div", { class: "span" });
    span.style.left = pos(row.ci_low);
    span.style.width = `${(100 * (row.ci_high - row.ci_low)) / w}%`;
    const zero = el("div", { class: "zero" }); zero.style.left = pos(0);
    const mean = el("div", { class: "mean" }); mean.style.left = pos(d);
    bar.append(span, zero, mean);
    c.append(bar);
  }
  return c;
}

function table(node, head, rows) {
  node.replaceChildren();
  const tr = el("tr");
  for (const h of head) tr.append(el("th", {}, h));
  node.append(tr);
  for (const r of rows) {
    const row = el("tr");
    for (const cell of r) row.append(el("td", {}, cell));
    node.append(row);
  }
}

function render(a) {
  const running = a.status === "running";
  const timing = a.first_pair_s !== null ? ` · first pair ${a.first_pair_s.toFixed(1)} s` : "";
  const done = a.done_s !== null ? ` · all ${a.done_s.toFixed(1)} s` : "";
  $("status").textContent = a.status === "failed" ? a.message :
    `${a.pairs_done} of ${a.pairs} paired replications${running ? " (running…)" : ""}${timing}${done}`;
  $("status").dataset.status = a.status;
  $("bar").style.width = `${(100 * a.pairs_done) / a.pairs}%`;
  $("label").textContent = a.label;
  if (a.pairs_done === state.shown) return;
  state.shown = a.pairs_done;
  const headline = $("headline");
  headline.replaceChildren();
  headline.dataset.pairs = a.pairs_done;
  headline.dataset.job = a.job;
  if (!a.headline) return;
  const titles = { bookings: "Bookings, design − baseline", bookings_net_of_gtm_cost_usd: "Bookings net of GTM cost" };
  for (const row of a.headline) headline.append(card(row, titles[row.metric] || row.metric));
  table($("detail"), ["metric", "baseline", "design", "difference (95% CI)"],
    a.detail.map((r) => [r.metric.replaceAll("_", " "), format(r, r.baseline_mean), format(r, r.design_mean),
      `${signed(r.difference, (x) => format(r, x, true))} (${format(r, r.ci_low, true)} to ${format(r, r.ci_high, true)})`]));
  const rows = [];
  let chain = null;
  for (const r of a.bridge) {
    if (r.chain !== chain && r.kind !== "total") { rows.push({ cells: [r.chain, "", "", ""], kind: "chain" }); chain = r.chain; }
    rows.push({ cells: [r.step.replaceAll("_", " "), format(r, r.baseline), format(r, r.design), signed(r.contribution_usd, money)], kind: r.kind });
  }
  table($("bridge"), ["step", "baseline", "design", "contribution"], rows.map((r) => r.cells));
  rows.forEach((r, i) => $("bridge").rows[i + 1].classList.add(r.kind));
  $("nobridge").textContent = a.no_bridge || "";
  if (a.pairs_done === 1 || !running) {
    for (const name of ["bridge", "bookings"]) {
      const img = $(`fig-${name}`);
      if (name === "bridge" && a.no_bridge) { img.hidden = true; continue; }
      img.src = `/api/figure/${a.job}/${name}.png?n=${a.pairs_done}`;
      img.hidden = false;
    }
  }
}

// ------------------------------------------------------------------ history

async function refreshHistory() {
  const { ok, body } = await api("/api/history");
  if (!ok) return;
  const list = $("history");
  list.replaceChildren();
  for (const entry of body.slice().reverse()) {
    const b = entry.bookings;
    const text = `${entry.label}: ${b ? signed(b.difference, money) : "–"}${b && b.ci_low !== null ? ` (${signed(b.ci_low, money)} to ${signed(b.ci_high, money)})` : ""}, ${entry.pairs_done}/${entry.pairs} pairs`;
    const li = el("li", { class: entry.job === state.job ? "current" : "" }, text);
    li.addEventListener("click", () => restore(entry.request));
    list.append(li);
  }
}

async function restore(req) {
  $("baseline").value = req.baseline;
  const other = $("design").value !== req.design;
  $("design").value = req.design;
  $("pairs").value = req.pairs;
  if (other) await loadLevers(false);
  state.values = {};
  for (const [k, v] of Object.entries(req.levers)) state.values[k] = v;
  drawLevers();
  submit();
}

// ------------------------------------------------------------------ start

async function start() {
  const { ok, body } = await api("/api/setup");
  if (!ok) { showProblems(body.problems); return; }
  for (const id of ["baseline", "design"]) {
    const select = $(id);
    for (const name of body.designs) select.append(el("option", { value: name }, name));
    select.value = body.current ? body.current.request[id] : body.default;
  }
  $("pairs").value = body.current ? body.current.request.pairs : body.pairs;
  await loadLevers(false);
  if (body.current) {
    for (const [k, v] of Object.entries(body.current.request.levers)) state.values[k] = v;
    drawLevers();
  }
  $("baseline").addEventListener("change", submit);
  $("design").addEventListener("change", async () => { await loadLevers(false); submit(); });
  $("pairs").addEventListener("change", submit);
  $("reset").addEventListener("click", () => { state.values = {}; drawLevers(); submit(); });
  refreshHistory();
  if (body.current) follow(body.current); else submit();
}

start();
