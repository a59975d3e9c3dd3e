import type { Response } from 'express';
import { sendPage } from './layout.js';

const BODY = `
<form id="filter">
  <label>Account <input name="accountId" placeholder="every account" maxlength="128"></label>
  <button>Watch</button>
  <span class="status" id="tap-status">Connecting…</span>
</form>
<h2>Routed events <span class="muted">(newest first; click an id for its trace)</span></h2>
<table id="records"><tr><th>routed</th><th>priority</th><th class="text">type</th><th class="text">account</th><th class="text">verdict</th><th>targeted</th><th>online</th><th class="text">event id</th></tr></table>
<h2>Event trace</h2>
<form id="lookup">
  <label>Event id <input name="id" required maxlength="128" size="40"></label>
  <button>Look up</button>
</form>
<div id="trace"></div>
`;

/** Follows the tap over SSE and looks traces up. */
const SCRIPT = `
const MAX_ROWS = 200;
/** Why a no_targets event had none, as the trace says it. */
const NO_TARGETS = {
  no_devices: 'no devices registered for this account',
  none_match: "none of the account's devices matches its type's platforms or the event's targets",
};
let source;

function watch(accountId) {
  if (source) source.close();
  const query = accountId ? '?accountId=' + encodeURIComponent(accountId) : '';
  source = new EventSource(api('/admin/api/tap' + query));
  const status = document.getElementById('tap-status');
  status.textContent = 'Connecting…';
  source.addEventListener('ready', () => { status.textContent = accountId ? 'Watching account ' + accountId : 'Watching every account'; });
  source.addEventListener('tap', (message) => addRecord(JSON.parse(message.data)));
  source.addEventListener('skipped', (message) => {
    status.textContent = 'Busy: ' + JSON.parse(message.data).count + ' records skipped while this page caught up';
  });
  source.addEventListener('error', (message) => {
    if (message.data) status.textContent = JSON.parse(message.data).error.message;
    else status.textContent = 'Disconnected; reconnecting…';
  });
}

function addRecord(r) {
  const table = document.getElementById('records');
  const link = el('a', { href: '#' }, r.id);
  link.addEventListener('click', (event) => { event.preventDefault(); lookup(r.id); });
  const verdictClass = r.verdict === 'routed' ? 'ok' : 'warn';
  const tr = el('tr', {},
    el('td', {}, new Date(r.routedAt).toLocaleTimeString()), el('td', {}, r.priority), el('td', { class: 'text' }, r.type),
    el('td', { class: 'text' }, r.accountId), el('td', { class: 'text ' + verdictClass, title: NO_TARGETS[r.noTargets] || '' }, r.verdict),
    el('td', { title: r.targeted.join(', ') }, fmt(r.targeted.length)), el('td', { title: r.online.join(', ') }, fmt(r.online.length)),
    el('td', { class: 'text' }, link));
  table.rows[0].after(tr);
  while (table.rows.length > MAX_ROWS + 1) table.deleteRow(table.rows.length - 1);
}

async function lookup(id) {
  document.querySelector('#lookup input').value = id;
  const res = await fetch(api('/admin/api/events/' + encodeURIComponent(id)), { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) { replace('trace', el('p', { class: 'bad' }, body.error ? body.error.message : res.statusText)); return; }
  replace('trace', el('div', {},
    el('p', {}, body.id + ' · ' + body.priority + ' · ' + body.status + (body.verdict && body.verdict !== 'routed' ? ' (' + body.verdict + ')' : '') +
      (body.acceptedAt ? ' · accepted ' + new Date(body.acceptedAt).toLocaleString() : '')),
    el('table', {},
      el('tr', {}, el('th', {}, 'gate'), el('th', { class: 'text' }, 'verdict'), el('th', { class: 'text' }, 'why'), el('th', { class: 'text' }, 'devices')),
      body.gates.map((g) => el('tr', {}, el('td', {}, g.gate), el('td', { class: 'text ' + (g.verdict === 'dropped' ? 'bad' : '') }, g.verdict),
        el('td', { class: 'text wrap' }, g.reason || ''), el('td', { class: 'text wrap' }, (g.devices || []).join(', '))))),
    el('pre', {}, JSON.stringify(body, null, 2))));
}

document.getElementById('filter').addEventListener('submit', (event) => {
  event.preventDefault();
  watch(new FormData(event.target).get('accountId').trim());
});
document.getElementById('lookup').addEventListener('submit', (event) => {
  event.preventDefault();
  lookup(new FormData(event.target).get('id').trim());
});
watch('');
`;

/** `/admin/tap`: routing verdicts as they happen, and one event's trace on demand. */
export function sendTapPage(res: Response): void {
  sendPage(res, { title: 'Live tap', active: 'tap', body: BODY, script: SCRIPT });
}
