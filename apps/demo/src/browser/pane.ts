import type { Notification } from '@herald/contracts';
import { CSS, document } from './dom.js';
import type { DemoButton, DemoElement } from './dom.js';

/** A pane's connection state; the page's CSS colours the pane by its `data-state`. */
export type PaneState = 'registering' | 'connecting' | 'connected' | 'synced' | 'disconnected' | 'error';

const STATE_LABELS: Record<PaneState, string> = {
  registering: 'registering…',
  connecting: 'connecting…',
  connected: 'connected, catching up…',
  synced: 'live',
  disconnected: 'disconnected, retrying…',
  error: 'stopped',
};

/** Notifications kept on screen per pane; older ones are dropped from the page. */
const MAX_SHOWN = 100;

/**
 * One device's pane (`<section>` with `.state`, `.detail` and `.notifications`): shows its
 * connection state and every notification it received, newest first, each as an element with
 * `data-notification-id` (what the browser test looks for).
 */
export class Pane {
  private readonly stateLabel: DemoElement;
  private readonly detail: DemoElement;
  private readonly list: DemoElement;

  constructor(readonly element: DemoElement) {
    this.stateLabel = required(element, '.state');
    this.detail = required(element, '.detail');
    this.list = required(element, '.notifications');
  }

  static byId(id: string): Pane {
    const element = document.getElementById(id);
    if (element === null) throw new Error(`the demo page has no #${id}`);
    return new Pane(element);
  }

  setState(state: PaneState, detail?: string): void {
    this.element.dataset['state'] = state;
    this.stateLabel.textContent = STATE_LABELS[state];
    if (detail !== undefined) this.note(detail);
  }

  /** A line under the pane's title: the device id, the last problem, a reset. */
  note(text: string): void {
    this.detail.textContent = text;
  }

  show(notification: Notification): void {
    if (this.list.querySelector(`[data-notification-id="${CSS.escape(notification.id)}"]`) !== null) return;
    const item = element('li', 'notification');
    item.dataset['notificationId'] = notification.id;
    item.dataset['priority'] = notification.priority;
    item.dataset['cursor'] = notification.cursor;
    const head = element('header');
    head.append(element('span', 'type', notification.type), element('span', 'meta', `${notification.priority} · ${time(notification.createdAt)}`));
    item.append(head, element('pre', undefined, JSON.stringify(notification.payload)));
    item.title = `event ${notification.id}, cursor ${notification.cursor}`;
    this.list.prepend(item);
    while (this.list.childElementCount > MAX_SHOWN) this.list.lastElementChild?.remove();
  }
}

/** A new element with an optional class and text. */
export function element(tag: 'section' | 'header' | 'span' | 'li' | 'pre', className?: string, text?: string): DemoElement {
  return decorate(document.createElement(tag), className, text);
}

export function button(text: string): DemoButton {
  const node = decorate(document.createElement('button'), undefined, text);
  node.type = 'button';
  return node;
}

function decorate<E extends DemoElement>(node: E, className: string | undefined, text: string | undefined): E {
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function required(root: DemoElement, selector: string): DemoElement {
  const found = root.querySelector(selector);
  if (found === null) throw new Error(`the demo pane #${root.id} has no ${selector}`);
  return found;
}

function time(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}
