// reembed dashboard: a static page over the JSON API (no build step, no CDN). The API key lives in this
// tab's sessionStorage; every request sends it as a bearer token. Charts are plain SVG. Live updates poll
// the API every REFRESH_MS. Untrusted text (documents, queries) only ever enters the page as text nodes.

const REFRESH_MS = 2000;
const MONITOR_MS = 15000;
const KEY = 'reembed.key';
const SVG = 'http://www.w3.org/2000/svg';
const STATES = ['planned', 'backfilling', 'validating', 'shadowing', 'rolling-out', 'cut-over', 'retiring', 'retired'];

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? String(res.status), data?.error?.message ?? res.statusText);
  return data;
}

const pct = (r) => (r === null || r === undefined ? '-' : `${(r * 100).toFixed(1)}%`);
const num = (n, d = 0) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ms = (n) => (n === null || n === undefined ? '-' : `${Number(n).toFixed(1)} ms`);
function duration(seconds) {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

let session = null;
/** Per migration: previous (time, documents) to compute the backfill rate between two polls. */
const rates = new Map();
let timer = null;
let lastMonitor = 0;

async function signIn() {
  try {
    session = await api('GET', '/v1/session');
  } catch (e) {
    sessionStorage.removeItem(KEY);
    showLogin(e.status === 401 ? 'That key is not valid (unknown or revoked).' : e.message);
    return;
  }
  $('login').hidden = true;
  $('content').hidden = false;
  $('signout').hidden = false;
  $('who').textContent = `key ${session.name} · scope ${session.scope}${session.tenant ? ` · tenant ${session.tenant}` : ''}`;
  await refresh();
  timer = setInterval(() => void refresh(), REFRESH_MS);
}

function showLogin(message = '') {
  clearInterval(timer);
  $('login').hidden = false;
  $('content').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('login-error').textContent = message;
}

async function refresh() {
  try {
    const [status, collections, coverage] = await Promise.all([
      api('GET', '/v1/status'),
      api('GET', '/v1/collections'),
      api('GET', '/v1/coverage'),
    ]);
    renderMigrations(status.migrations);
    renderCollections(collections);
    renderCoverage(coverage.samples, coverage.stored);
    fillReviewMigrations(status.migrations);
    if (Date.now() - lastMonitor > MONITOR_MS) {
      lastMonitor = Date.now();
      renderLatency(await api('GET', '/v1/monitor'));
    }
    $('live').textContent = `updated ${new Date().toLocaleTimeString()}`;
    $('live').dataset.updates = String(Number($('live').dataset.updates ?? 0) + 1);
  } catch (e) {
    if (e.status === 401) showLogin('The key was revoked or is no longer valid.');
    else $('live').textContent = `update failed: ${e.message}`;
  }
}

// ---- migrations ---------------------------------------------------------------------------------

function renderMigrations(list) {
  const root = $('migrations');
  if (list.length === 0) {
    root.replaceChildren(h('p', { class: 'muted' }, 'No migration in progress.'));
    return;
  }
  root.replaceChildren(...list.map(migrationCard));
}

function migrationCard(st) {
  const m = st.migration;
  const docs = st.backfill.documents;
  const now = Date.now();
  const prev = rates.get(m.id);
  let rate = prev?.rate ?? null;
  if (prev && docs.current !== prev.current && now > prev.at) rate = Math.max(0, (docs.current - prev.current) / ((now - prev.at) / 1000));
  if (!prev || docs.current !== prev.current) rates.set(m.id, { at: now, current: docs.current, rate });
  const left = Math.max(0, docs.live - docs.current - docs.deadLettered);
  const eta = rate && rate > 0 ? left / rate : left === 0 ? 0 : Number.POSITIVE_INFINITY;
  const terminal = m.state === 'rolled-back';
  const at = STATES.indexOf(m.state);
  const timeline = h(
    'div',
    { class: 'timeline', 'aria-label': 'migration states' },
    STATES.map((name, i) => h('span', { class: name === m.state ? 'now' : i < at && !terminal ? 'done' : '' }, name)),
    terminal ? h('span', { class: 'now' }, 'rolled-back') : null,
  );
  const spend = st.spend;
  const a = st.agreement;
  const card = h(
    'div',
    { class: 'card migration', 'data-migration': m.id, 'data-state': m.state },
    h('h3', {}, `${m.alias}: ${m.from} → ${m.to}`, h('span', { class: 'muted' }, ` · ${m.strategy} · ${m.id}`)),
    timeline,
    h(
      'div',
      { class: 'row' },
      h(
        'div',
        {},
        h('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': Math.round(docs.ratio * 100), 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { style: `width:${(docs.ratio * 100).toFixed(1)}%` })),
        h('div', { class: 'progress-text' }, `${num(docs.current)} / ${num(docs.live)} documents (${pct(docs.ratio)})`),
      ),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, 'backfill'), h('dd', {}, st.backfill.state),
        h('dt', {}, 'rate'), h('dd', {}, rate === null ? '-' : `${num(rate, 1)} docs/s`),
        h('dt', {}, 'ETA'), h('dd', {}, left === 0 ? 'done' : duration(eta)),
        h('dt', {}, 'tokens so far'), h('dd', {}, spend ? `${num(spend.tokens)} (≈${num(spend.tokensPerDocument, 1)}/doc, estimated)` : '-'),
        h('dt', {}, 'cost so far'), h('dd', {}, spend ? `$${num(spend.cost, 4)} at $${num(spend.pricePerMillionTokens, 2)}/M` : '-'),
        h('dt', {}, 'dead letters'), h('dd', {}, num(st.deadLetters)),
      ),
      a
        ? h(
            'dl',
            { class: 'kv' },
            h('dt', {}, 'shadow samples'), h('dd', {}, num(a.samples)),
            h('dt', {}, 'overlap@10'), h('dd', {}, a.overlap?.[10] === undefined ? '-' : num(a.overlap[10], 3)),
            h('dt', {}, 'RBO'), h('dd', {}, a.rbo === null ? '-' : num(a.rbo, 3)),
            h('dt', {}, 'served p50/p99'), h('dd', {}, `${ms(a.servedMs.p50)} / ${ms(a.servedMs.p99)}`),
            h('dt', {}, 'shadow p50/p99'), h('dd', {}, `${ms(a.shadowMs.p50)} / ${ms(a.shadowMs.p99)}`),
          )
        : null,
    ),
    qualityChart(m.info?.qualityHistory ?? []),
    lastGates(st.lastGates),
    st.migration.info?.reviewGolden ? h('p', { class: 'muted' }, `Reviewed judgments: golden set ${st.migration.info.reviewGolden}`) : null,
    actions(st),
  );
  return card;
}

function lastGates(g) {
  if (!g) return h('p', { class: 'muted' }, 'Gates not evaluated yet.');
  return h(
    'details',
    {},
    h('summary', {}, 'Last gates ', h('span', { class: g.passed ? 'ok' : 'bad' }, g.passed ? 'passed' : 'failed'), h('span', { class: 'muted' }, ` at ${g.at}`)),
    gateTable(g.results),
  );
}

function gateTable(results) {
  return h(
    'table',
    { class: 'gates' },
    h('tr', {}, h('th', {}, 'rule'), h('th', {}, ''), h('th', {}, 'detail')),
    results.map((r) => h('tr', {}, h('td', {}, h('code', {}, r.rule)), h('td', { class: r.passed ? 'ok' : 'bad' }, r.passed ? 'pass' : 'fail'), h('td', {}, r.detail))),
  );
}

function actions(st) {
  const admin = session?.scope === 'admin';
  const id = st.migration.id;
  const title = admin ? undefined : 'needs an admin key';
  return h(
    'div',
    { class: 'actions' },
    ['step', 'cutover', 'rollback'].map((action) =>
      h('button', { 'data-action': action, disabled: !admin, title, onclick: () => void confirmAction(id, action, st.migration) }, action),
    ),
    admin ? null : h('span', { class: 'muted' }, 'step, cutover and rollback need an admin key'),
  );
}

/** Shows the gates (the same evaluation cutover runs), then acts only after Confirm. */
async function confirmAction(id, action, migration) {
  const dialog = $('gate-dialog');
  $('gate-title').textContent = `${action} ${migration.alias} (${migration.from} → ${migration.to})`;
  $('gate-result').textContent = '';
  $('gate-body').replaceChildren(h('p', { class: 'muted' }, 'Evaluating the gates…'));
  $('gate-confirm').disabled = true;
  dialog.showModal();
  let gates;
  try {
    const golden = migration.info?.reviewGolden;
    gates = await api('POST', `/v1/migrations/${encodeURIComponent(id)}/gates`, golden && action === 'cutover' ? { golden } : {});
  } catch (e) {
    $('gate-body').replaceChildren(h('p', { class: 'error' }, `${e.code}: ${e.message}`));
    return;
  }
  $('gate-body').replaceChildren(
    h('p', {}, 'Gates ', h('strong', { class: gates.passed ? 'ok' : 'bad', id: 'gate-verdict' }, gates.passed ? 'pass' : 'fail'), ` (coverage ${pct(gates.coverage.ratio)})`),
    gateTable(gates.results),
    gates.quality ? h('p', { class: 'muted' }, `Quality on ${gates.quality.label} ${gates.quality.set}: old ${fmtMetrics(gates.quality.old)} · new ${fmtMetrics(gates.quality.new)}`) : null,
    action === 'cutover' && !gates.passed ? h('p', { class: 'bad' }, 'A cutover with failing gates is refused (force it from the CLI with a reason).') : null,
  );
  $('gate-confirm').disabled = false;
  const choice = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (choice !== 'confirm') return;
  try {
    const body = action === 'cutover' && migration.info?.reviewGolden ? { golden: migration.info.reviewGolden } : action === 'rollback' ? { reason: 'from the dashboard' } : {};
    const report = await api('POST', `/v1/migrations/${encodeURIComponent(id)}/${action}`, body);
    $('live').textContent = `${action}: ${report.migration?.state ?? 'done'}`;
  } catch (e) {
    $('live').textContent = `${action} refused: ${e.code}: ${e.message}`;
  }
  await refresh();
}

function fmtMetrics(m) {
  return ['ndcg@10', 'mrr@10', 'recall@10'].filter((k) => m[k] !== undefined).map((k) => `${k} ${Number(m[k]).toFixed(3)}`).join(', ');
}

// ---- charts --------------------------------------------------------------------------------------

/** A line chart: series of {name, color, points: [{x: ms, y}]}, y in [0, yMax]. */
function lineChart(series, { width = 560, height = 180, yMax = 1, yLabel = '' } = {}) {
  const pad = { l: 42, r: 12, t: 10, b: 24 };
  const all = series.flatMap((s) => s.points);
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': yLabel });
  if (all.length === 0) return svg;
  let x0 = Math.min(...all.map((p) => p.x));
  let x1 = Math.max(...all.map((p) => p.x));
  if (x1 === x0) { x0 -= 1000; x1 += 1000; }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - (y / yMax) * (height - pad.t - pad.b);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: Y(t * yMax), y2: Y(t * yMax), stroke: '#e5e8ec' }));
    svg.append(s('text', { x: pad.l - 6, y: Y(t * yMax) + 4, 'text-anchor': 'end' }, yMax === 1 ? `${t * 100}%` : (t * yMax).toFixed(2)));
  }
  svg.append(s('text', { x: pad.l, y: height - 6 }, new Date(x0).toLocaleTimeString()));
  svg.append(s('text', { x: width - pad.r, y: height - 6, 'text-anchor': 'end' }, new Date(x1).toLocaleTimeString()));
  for (const line of series) {
    const pts = [...line.points].sort((a, b) => a.x - b.x);
    if (pts.length === 1) svg.append(s('circle', { cx: X(pts[0].x), cy: Y(pts[0].y), r: 3, fill: line.color }));
    else svg.append(s('polyline', { points: pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' '), fill: 'none', stroke: line.color, 'stroke-width': 2 }));
  }
  return svg;
}

function legend(series) {
  return h('div', { class: 'legend' }, series.map((s) => [h('i', { style: `background:${s.color}` }), s.name]));
}

const PALETTE = ['#1f6feb', '#8a94a3', '#bf8700', '#8250df', '#1a7f37', '#cf222e'];

function qualityChart(history) {
  if (history.length === 0) return h('p', { class: 'muted quality' }, 'Quality: not measured yet (measured at each gate evaluation while the migration runs).');
  const last = history[history.length - 1];
  const metric = ['ndcg@10', 'mrr@10', 'recall@10'].find((k) => last.new[k] !== undefined) ?? Object.keys(last.new)[0];
  const series = [
    { name: `new ${metric}`, color: '#1f6feb', points: history.map((p) => ({ x: Date.parse(p.at), y: p.new[metric] ?? 0 })) },
    { name: `old ${metric}`, color: '#8a94a3', points: history.map((p) => ({ x: Date.parse(p.at), y: p.old[metric] ?? 0 })) },
  ];
  return h('div', { class: 'quality' }, h('div', { class: 'muted' }, `Quality during the migration on ${last.label} ${last.set} (${history.length} measurements)`), lineChart(series, { yLabel: `quality ${metric}` }), legend(series));
}

function renderCoverage(samples, stored) {
  const root = $('coverage-chart');
  if (!stored) {
    root.replaceChildren(h('p', { class: 'muted' }, 'This backend keeps no coverage history.'));
    return;
  }
  const by = new Map();
  for (const x of samples) {
    if (!by.has(x.namespace)) by.set(x.namespace, []);
    by.get(x.namespace).push({ x: Date.parse(x.at), y: x.live === 0 ? 1 : x.current / x.live });
  }
  if (by.size === 0) {
    root.replaceChildren(h('p', { class: 'muted' }, 'No samples yet: the server samples coverage every few seconds while a backfill runs.'));
    return;
  }
  const series = [...by].map(([name, points], i) => ({ name, color: PALETTE[i % PALETTE.length], points }));
  root.replaceChildren(lineChart(series, { width: 760, yLabel: 'coverage' }), legend(series), h('div', { class: 'muted' }, `${samples.length} samples`));
}

// ---- collections and latency ---------------------------------------------------------------------

function renderCollections(list) {
  $('collections').replaceChildren(
    ...list.map((c) =>
      h(
        'div',
        { class: 'card collection', 'data-collection': c.name },
        h('h3', {}, c.name, h('span', { class: 'muted' }, ` · aliases ${c.aliases.map((a) => routingText(a.alias)).join(', ') || '-'}`)),
        h(
          'table',
          {},
          h('tr', {}, ['namespace', 'state', 'model', 'dim', 'records', 'coverage', 'versions (fingerprints)'].map((t) => h('th', {}, t))),
          c.namespaces.map((ns) =>
            h(
              'tr',
              { 'data-namespace': ns.namespace },
              h('td', {}, ns.namespace),
              h('td', {}, ns.state),
              h('td', {}, `${ns.space.provider}/${ns.space.model}`),
              h('td', {}, ns.space.dimension),
              h('td', {}, num(ns.records)),
              h('td', {}, h('div', { class: 'bar', style: 'width:120px;display:inline-block;vertical-align:middle' }, h('div', { style: `width:${(ns.coverage.ratio * 100).toFixed(1)}%` })), ` ${pct(ns.coverage.ratio)}`),
              h('td', {}, versions(ns)),
            ),
          ),
        ),
      ),
    ),
  );
}

function routingText(alias) {
  const r = alias.routing;
  if (r.kind === 'single') return `${alias.name} → ${r.namespace}`;
  if (r.kind === 'shadow') return `${alias.name} → ${r.primary} (shadow ${r.shadow})`;
  return `${alias.name} → ${r.primary} + ${r.next} (${r.kind})`;
}

function versions(ns) {
  const entries = Object.entries(ns.fingerprints ?? {});
  const total = entries.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return h('span', { class: 'muted' }, 'empty');
  return entries.map(([fp, n]) => h('div', { class: fp === ns.space.fingerprint ? '' : 'bad' }, `${fp.slice(0, 12)}… ${pct(n / total)}`));
}

function renderLatency(report) {
  const rows = report.namespaces.filter((n) => n.latencyP50Ms !== null || n.trafficShare !== null);
  $('latency').replaceChildren(
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No query traffic recorded yet.')
      : h(
          'table',
          {},
          h('tr', {}, ['namespace', 'serving', 'traffic share', 'p50', 'p99', 'mixed-version rate', 'status'].map((t) => h('th', {}, t))),
          rows.map((n) => h('tr', {}, h('td', {}, n.namespace), h('td', {}, n.serving ? 'yes' : 'no'), h('td', {}, pct(n.trafficShare)), h('td', {}, ms(n.latencyP50Ms)), h('td', {}, ms(n.latencyP99Ms)), h('td', {}, pct(n.mixedVersionRate)), h('td', { class: n.status === 'ok' ? 'ok' : 'bad' }, n.status))),
        ),
    h('p', { class: 'muted' }, `monitor at ${report.at}: ${report.alerts} alerts, ${report.warnings} warnings`),
  );
}

// ---- review queue ------------------------------------------------------------------------------

function fillReviewMigrations(list) {
  const select = $('review-migration');
  const current = select.value;
  const ids = list.map((st) => st.migration.id);
  if ([...select.options].map((o) => o.value).join() === ids.join()) return;
  select.replaceChildren(...list.map((st) => h('option', { value: st.migration.id }, `${st.migration.alias}: ${st.migration.from} → ${st.migration.to}`)));
  if (ids.includes(current)) select.value = current;
}

async function loadReview() {
  const id = $('review-migration').value;
  const root = $('review-items');
  if (!id) {
    $('review-status').textContent = 'No migration to review.';
    return;
  }
  $('review-status').textContent = 'Searching both namespaces…';
  try {
    const q = await api('GET', `/v1/migrations/${encodeURIComponent(id)}/review?limit=10`);
    $('review-status').textContent = `${q.items.length} queries from ${q.source} with a different top ${q.k}; judgments go to golden set ${q.golden}`;
    root.replaceChildren(...q.items.map((item) => reviewItem(id, q, item)));
  } catch (e) {
    $('review-status').textContent = `${e.code}: ${e.message}`;
    root.replaceChildren();
  }
}

function reviewItem(id, queue, item) {
  const name = (doc) => `${item.id}:${doc.id}`;
  const docRow = (doc, side) =>
    h(
      'div',
      { class: 'doc', 'data-doc': doc.id },
      h('div', {}, h('strong', {}, doc.id), h('span', { class: 'muted' }, ` ${side === 'lost' ? `old rank ${doc.oldRank}` : `new rank ${doc.newRank}`}`)),
      h('div', { class: 'text' }, doc.text),
      h('label', {}, h('input', { type: 'radio', name: name(doc), value: 'yes', checked: doc.grade !== null && doc.grade > 0 }), ' relevant'),
      h('label', {}, h('input', { type: 'radio', name: name(doc), value: 'no', checked: doc.grade === 0 }), ' not relevant'),
    );
  const box = h(
    'div',
    { class: 'review-item', 'data-query': item.id },
    h('div', { class: 'q' }, `“${item.text}”`, item.tenant ? h('span', { class: 'muted' }, ` tenant ${item.tenant}`) : null),
    h(
      'div',
      { class: 'cols' },
      h('div', {}, h('h4', {}, `Lost by ${queue.to} (${item.lost.length})`), item.lost.map((d) => docRow(d, 'lost'))),
      h('div', {}, h('h4', {}, `Gained by ${queue.to} (${item.gained.length})`), item.gained.map((d) => docRow(d, 'gained'))),
    ),
  );
  const status = h('span', { class: 'muted' });
  const save = h('button', {
    class: 'save',
    onclick: async () => {
      const judgments = [];
      for (const doc of [...item.lost, ...item.gained]) {
        const picked = box.querySelector(`input[name="${CSS.escape(name(doc))}"]:checked`);
        if (picked) judgments.push({ query: { id: item.id, text: item.text, tenant: item.tenant }, docId: doc.id, relevant: picked.value === 'yes' });
      }
      if (judgments.length === 0) {
        status.textContent = 'Mark at least one document.';
        return;
      }
      try {
        const saved = await api('POST', `/v1/migrations/${encodeURIComponent(id)}/review`, { judgments });
        status.textContent = `Saved ${saved.stored} judgments to ${saved.golden.name} (${saved.queries} queries)`;
        status.className = 'ok saved';
      } catch (e) {
        status.textContent = `${e.code}: ${e.message}`;
        status.className = 'error';
      }
    },
  }, 'Save judgments');
  box.append(h('div', { class: 'actions' }, save, status));
  return box;
}

// ---- wiring --------------------------------------------------------------------------------------

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('key').value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  $('key').value = '';
  void signIn();
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  showLogin();
});
for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => {
    for (const o of document.querySelectorAll('nav button')) o.classList.toggle('active', o === b);
    $('tab-overview').hidden = b.dataset.tab !== 'overview';
    $('tab-review').hidden = b.dataset.tab !== 'review';
  });
}
$('review-load').addEventListener('click', () => void loadReview());

if (sessionStorage.getItem(KEY)) void signIn();
else showLogin();
