import type { Response } from 'express';
import { sendPage } from './layout.js';

const BODY = `
<p class="status" id="status">Loading…</p>
<div class="cards" id="cards"></div>
<h2>Priority streams</h2>
<table id="streams"></table>
<h2>Load shedding <span class="muted">(low, then medium; never high · see the README's "Load shedding")</span></h2>
<p class="status" id="overload-status"></p>
<table id="shedding"></table>
<table id="reporters"></table>
<h2>Delivery queues <span class="muted">(waiting + active + delayed · failure rate)</span></h2>
<table id="queues"></table>
<h2>Gateway nodes</h2>
<table id="nodes"></table>
<h2>Dead letters <span class="muted">(newest; re-drive them with the worker's API)</span></h2>
<table id="dead"></table>
`;

/** Polls the overview API every 2 s and redraws the tables. */
const SCRIPT = `
const PERIOD_MS = 2000;
const PLATFORMS = ['web', 'tv', 'ios', 'android'];
const PRIORITIES = ['high', 'medium', 'low'];

function row(cells, tag) { return el('tr', {}, cells.map((c) => (c instanceof Node && c.tagName === (tag || 'TD').toUpperCase()) ? c : el(tag || 'td', {}, c))); }
function cls(text, className) { return el('td', { class: className }, text); }
function ageClass(seconds) { return seconds === null ? '' : seconds > 60 ? 'bad' : seconds > 10 ? 'warn' : ''; }
function rateClass(ratio) { return ratio === null ? '' : ratio > 0.05 ? 'bad' : ratio > 0 ? 'warn' : 'ok'; }

function render(o) {
  const readOnly = o.readOnly ? 'queue board read-only' : 'queue board can change jobs';
  const window = o.rateWindowSeconds === null ? 'rates after the next refresh' : 'rates over ' + o.rateWindowSeconds.toFixed(1) + ' s';
  replace('status', el('p', { class: 'status' }, 'Updated ' + new Date(o.at).toLocaleTimeString() + ' (Redis time) · ' + window + ' · ' + readOnly));

  const totalIn = o.priorities.reduce((t, p) => p.inPerSecond === null ? t : (t || 0) + p.inPerSecond, null);
  const depth = o.queues.reduce((t, q) => t + q.depth, 0);
  const dead = o.priorities.reduce((t, p) => t + p.deadLetters.count, 0);
  replace('cards', el('div', { class: 'cards' },
    el('div', { class: 'card' }, el('b', {}, fmt(o.gateway.devicesOnline)), 'devices online'),
    el('div', { class: 'card' }, el('b', {}, fmt(o.gateway.connections)), 'connections'),
    el('div', { class: 'card' }, el('b', {}, fmt(totalIn, 1)), 'events/s in'),
    el('div', { class: 'card' }, el('b', {}, fmt(depth)), 'delivery jobs queued'),
    el('div', { class: 'card' }, el('b', { class: dead > 0 ? 'bad' : '' }, fmt(dead)), 'dead letters'),
    el('div', { class: 'card' }, el('b', { class: levelClass(o.overload) }, o.overload.active ? fmt(o.overload.level, 2) : 'off'), 'shedding level (0..2)'),
  ));

  renderOverload(o.overload);

  replace('streams', el('table', {},
    row(['priority', 'partitions', 'stream entries', 'lag', 'pending', 'oldest pending', 'backlog (events)', 'in / s', 'out / s', 'dead letters'], 'th'),
    o.priorities.map((p) => row([
      p.priority, fmt(p.partitions), fmt(p.streamLength), fmt(p.lag), fmt(p.pending),
      cls(age(p.oldestPendingAgeSeconds), ageClass(p.oldestPendingAgeSeconds)),
      fmt(p.backlog), fmt(p.inPerSecond, 1), fmt(p.outPerSecond, 1),
      cls(fmt(p.deadLetters.count), p.deadLetters.count > 0 ? 'bad' : ''),
    ])),
  ));

  const byKey = new Map(o.queues.map((q) => [q.platform + '/' + q.priority, q]));
  replace('queues', el('table', {},
    row(['platform', ...PRIORITIES, 'all priorities'], 'th'),
    PLATFORMS.map((platform) => {
      const total = o.platforms.find((p) => p.platform === platform);
      return row([
        platform,
        ...PRIORITIES.map((priority) => {
          const q = byKey.get(platform + '/' + priority);
          return q ? el('td', { title: q.name + ': ' + q.waiting + ' waiting, ' + q.active + ' active, ' + q.delayed + ' delayed, ' + q.failed + ' failed' },
            fmt(q.depth), ' · ', el('span', { class: rateClass(q.failureRate) }, pct(q.failureRate))) : '—';
        }),
        total ? el('td', {}, fmt(total.depth), ' · ', el('span', { class: rateClass(total.failureRate) }, pct(total.failureRate))) : '—',
      ]);
    }),
  ));

  replace('nodes', el('table', {},
    row(['node', 'devices', 'connections', 'last heartbeat'], 'th'),
    o.gateway.nodes.length === 0 ? row([el('td', { colspan: 4, class: 'muted' }, 'No live gateway node.')]) :
    o.gateway.nodes.map((n) => row([n.nodeId, fmt(n.devices), fmt(n.connections), new Date(n.at).toLocaleTimeString()])),
  ));

  const letters = o.priorities.flatMap((p) => p.deadLetters.newest.map((d) => ({ priority: p.priority, ...d })));
  replace('dead', el('table', {},
    row(['priority', 'partition', 'when', 'entry', 'events', 'reason'], 'th'),
    letters.length === 0 ? row([el('td', { colspan: 6, class: 'muted' }, 'None.')]) :
    letters.map((d) => row([d.priority, fmt(d.partition), new Date(d.at).toLocaleString(), cls(d.entry, 'text'), fmt(d.events), cls(d.reason, 'text wrap')])),
  ));
}

function levelClass(overload) { return !overload.active || overload.level === 0 ? '' : overload.level >= 1 ? 'bad' : 'warn'; }
function ms(value) { return value === null ? '—' : fmt(value, value < 10 ? 1 : 0) + ' ms'; }

function renderOverload(ov) {
  const s = ov.signals;
  const status = !ov.active
    ? 'No live ingest publishes a level: shedding is off (HERALD_SHEDDING=false) or ingest is down; workers run at full speed.'
    : 'Pressure ' + fmt(ov.pressure, 2) + ' (' + ov.condition + ') from host CPU ' + pct(s.cpu) + ', event-loop delay p99 ' + ms(s.eventLoopDelayMs)
      + ', Redis PING ' + ms(s.redisRttMs) + ', oldest unrouted high-priority entry ' + ms(s.highAgeMs) + '.';
  replace('overload-status', el('p', { class: 'status ' + (ov.condition === 'overloaded' ? 'bad' : '') }, status));
  replace('shedding', el('table', {},
    row(['priority', 'shed at ingest', 'router and delivery yield', 'oldest unrouted', 'shed / s'], 'th'),
    ov.priorities.map((p) => row([
      p.priority,
      cls(pct(p.shed), p.shed > 0 ? 'bad' : ''),
      cls(pct(p.yield), p.yield > 0 ? 'warn' : ''),
      age(p.queueAgeSeconds),
      fmt(p.shedPerSecond, 1),
    ])),
  ));
  replace('reporters', el('table', {},
    row(['reporting process', 'role', 'host CPU', 'event-loop delay p99', 'last report'], 'th'),
    ov.reporters.length === 0 ? row([el('td', { colspan: 5, class: 'muted' }, 'None.')]) :
    ov.reporters.map((r) => row([cls(r.id, 'text'), r.role, pct(r.cpu), ms(r.eventLoopDelayMs), new Date(r.at).toLocaleTimeString()])),
  ));
}

async function refresh() {
  try {
    const res = await fetch(api('/admin/api/overview'), { headers: { accept: 'application/json' } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    render(body);
  } catch (error) {
    replace('status', el('p', { class: 'status bad' }, 'Could not refresh: ' + error.message + ' (retrying)'));
  } finally {
    setTimeout(refresh, PERIOD_MS);
  }
}
refresh();
`;

/** `/admin`: streams, load shedding, queues, devices and dead letters at a glance, refreshed every 2 s. */
export function sendOverviewPage(res: Response): void {
  sendPage(res, { title: 'Overview', active: 'overview', body: BODY, script: SCRIPT });
}
