/**
 * The demo page's script. It registers four devices on one account through the demo server
 * (which registers them with ingest) and connects them to the gateway with the SDK, as an app
 * would:
 *
 * - the page's own device (`?platform=web|tv`, default web): `HeraldDevice`, Socket.IO push;
 * - simulated TV and web devices: `HeraldDevice` too;
 * - a simulated phone (iOS): `HeraldPoller`, long-polling `GET /v1/notifications`.
 *
 * The "send an event" buttons post sample events, which the demo server forwards to ingest, so they
 * travel the real path: ingest → priority stream → worker → history + per-platform delivery.
 * `<body data-ready>` is set once the page's own device is connected and synced.
 */

import { HeraldDevice, HeraldPoller } from '@herald/client';
import type { Platform } from '@herald/contracts';
import { DemoQuerySchema } from '../schemas.js';
import type { DemoEventTypes } from '../schemas.js';
import { demoApi } from './demo-api.js';
import { document, history, location, onPageHide, webStorage } from './dom.js';
import { Pane, button as makeButton, element } from './pane.js';

/** What the page's client objects have in common, for wiring their events to a pane. */
type DemoClient = HeraldDevice | HeraldPoller;

interface DemoDeviceSpec {
  /** The pane's element id. */
  pane: string;
  /** Names the device id this browser keeps for the account (so reloads reuse the registration). */
  role: string;
  platform: Platform;
  transport: 'socket' | 'poll';
}

const problem = document.getElementById('problem');

function showProblem(text: string): void {
  if (problem !== null) problem.textContent = text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `?account=&platform=`, checked with the schema the demo server uses; a random account when absent (kept in the URL). */
function readQuery(): { accountId: string; platform: 'web' | 'tv' } {
  const params = Object.fromEntries(new URLSearchParams(location.search));
  const parsed = DemoQuerySchema.safeParse(params);
  if (!parsed.success) {
    // The demo server refuses such a link with a 400 already; this is for a page opened some other way.
    throw new Error(`Bad link: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const accountId = parsed.data.account ?? `demo-${randomId()}`;
  if (parsed.data.account === undefined) {
    history.replaceState(null, '', `/?account=${encodeURIComponent(accountId)}&platform=${parsed.data.platform}`);
  }
  return { accountId, platform: parsed.data.platform };
}

/** Eight hex digits. Not `crypto.randomUUID()`: browsers offer it only on https and localhost. */
function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The device id this browser uses for a role on an account: kept in localStorage so a reload reuses it. */
function deviceIdFor(accountId: string, role: string): string {
  const key = `herald-demo:${accountId}:${role}`;
  try {
    const storage = webStorage();
    const known = storage.getItem(key);
    if (known !== null) return known;
    const fresh = `demo-${role}-${randomId()}`;
    storage.setItem(key, fresh);
    return fresh;
  } catch {
    return `demo-${role}-${randomId()}`;
  }
}

/** Shows a client's connection state and notifications in its pane. */
function wire(client: DemoClient, pane: Pane, deviceId: string, onSynced?: () => void): void {
  client.on('connected', () => pane.setState('connected'));
  client.on('synced', (synced) => {
    pane.setState('synced', `${deviceId} · caught up (${synced.replayed} replayed)`);
    onSynced?.();
  });
  client.on('reset', () => pane.note(`${deviceId} · history reset: the app would refresh its state in full`));
  client.on('notification', (notification) => pane.show(notification));
  client.on('disconnected', (reason) => pane.setState('disconnected', `${deviceId} · ${reason}`));
  client.on('error', (error) => {
    if (error.fatal) pane.setState('error', `${deviceId} · ${error.code}: ${error.message}`);
    else pane.note(`${deviceId} · ${error.code}: ${error.message}`);
  });
}

/** Registers one device through the demo API and connects it to the gateway with the SDK. */
async function startDevice(gatewayUrl: string, accountId: string, spec: DemoDeviceSpec, onSynced?: () => void): Promise<DemoClient> {
  const pane = Pane.byId(spec.pane);
  const deviceId = deviceIdFor(accountId, spec.role);
  pane.setState('registering', deviceId);
  try {
    const { token } = await demoApi.registerDevice(accountId, spec.platform, deviceId);
    pane.setState('connecting', `${deviceId} · ${spec.platform}`);
    const options = { url: gatewayUrl, token };
    let client: DemoClient;
    if (spec.transport === 'socket') {
      client = new HeraldDevice(options);
      wire(client, pane, deviceId, onSynced);
    } else {
      const poller = new HeraldPoller(options);
      wire(poller, pane, deviceId, onSynced);
      poller.start();
      pane.note(`${deviceId} · ${spec.platform} · long-polling GET /v1/notifications`);
      client = poller;
    }
    return client;
  } catch (error) {
    pane.setState('error', `${deviceId} · ${messageOf(error)}`);
    throw error;
  }
}

/** One button per catalog type; each click sends a fresh sample event through ingest. */
function renderButtons(accountId: string, catalog: DemoEventTypes): void {
  const container = document.getElementById('event-buttons');
  const log = document.getElementById('sent');
  if (container === null || log === null) return;
  container.replaceChildren();
  for (const entry of catalog.eventTypes) {
    const button = makeButton(entry.type);
    button.dataset['type'] = entry.type;
    button.append(element('span', undefined, `${entry.priority} · ${entry.platforms.join(', ')}`));
    button.title = `${entry.description ?? entry.type}\n\nSample payload: ${JSON.stringify(entry.sample)}`;
    button.addEventListener('click', () => {
      button.disabled = true;
      demoApi
        .sendEvent(accountId, entry.type)
        .then((sent) => {
          const line = element('li', undefined, `${entry.type} → ${sent.status} (${sent.priority}), id ${sent.id}`);
          line.dataset['sentId'] = sent.id;
          log.prepend(line);
        })
        .catch((error: unknown) => log.prepend(element('li', 'failed', `${entry.type} → ${messageOf(error)}`)))
        .finally(() => {
          button.disabled = false;
        });
    });
    container.append(button);
  }
}

/** The gateway's URL, which the demo server writes into the page. */
function gatewayUrl(): string {
  const url = document.body.dataset['gatewayUrl'];
  if (url === undefined || !URL.canParse(url)) throw new Error(`The page names no gateway to connect to (body data-gateway-url=${JSON.stringify(url)}).`);
  return url;
}

async function main(): Promise<void> {
  const gateway = gatewayUrl();
  const { accountId, platform } = readQuery();
  const accountLabel = document.getElementById('account');
  if (accountLabel !== null) accountLabel.textContent = accountId;
  const platformLabel = document.getElementById('main-platform');
  if (platformLabel !== null) platformLabel.textContent = platform;

  const devices: DemoDeviceSpec[] = [
    { pane: 'main', role: `main-${platform}`, platform, transport: 'socket' },
    { pane: 'pane-tv', role: 'tv', platform: 'tv', transport: 'socket' },
    { pane: 'pane-web', role: 'web', platform: 'web', transport: 'socket' },
    { pane: 'pane-phone', role: 'phone', platform: 'ios', transport: 'poll' },
  ];
  const markReady = () => document.body.setAttribute('data-ready', '');
  const [catalog, ...started] = await Promise.allSettled([
    demoApi.eventTypes().then((types) => renderButtons(accountId, types)),
    ...devices.map((spec, index) => startDevice(gateway, accountId, spec, index === 0 ? markReady : undefined)),
  ]);
  const failures = [catalog, ...started].flatMap((result) => (result.status === 'rejected' ? [messageOf(result.reason)] : []));
  if (failures.length > 0) showProblem([...new Set(failures)].join('\n'));

  const clients = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  onPageHide(() => {
    for (const client of clients) void (client instanceof HeraldPoller ? client.stop() : client.close());
  });
}

main().catch((error: unknown) => showProblem(messageOf(error)));
