import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type PageName = 'overview' | 'queues' | 'tap';

const NAV: { name: PageName; href: string; label: string }[] = [
  { name: 'overview', href: '/admin', label: 'Overview' },
  { name: 'queues', href: '/admin/queues', label: 'Delivery queues' },
  { name: 'tap', href: '/admin/tap', label: 'Live tap' },
];

const STYLE = `
  :root { color-scheme: light dark; --muted: #6b7280; --bad: #dc2626; --warn: #d97706; --ok: #059669; --line: #d1d5db80; }
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; }
  header { display: flex; gap: 1.5rem; align-items: baseline; padding: .8rem 1.5rem; border-bottom: 1px solid var(--line); }
  header strong { font-size: 1.1rem; }
  nav a { margin-right: 1rem; text-decoration: none; color: inherit; opacity: .7; }
  nav a.active { opacity: 1; font-weight: 600; border-bottom: 2px solid currentColor; }
  main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
  h2 { font-size: 1rem; margin: 1.6rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: right; padding: .3rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th:first-child, td:first-child, td.text, th.text { text-align: left; }
  td.wrap { white-space: normal; word-break: break-all; }
  th { font-weight: 600; color: var(--muted); }
  .muted { color: var(--muted); }
  .bad { color: var(--bad); font-weight: 600; }
  .warn { color: var(--warn); }
  .ok { color: var(--ok); }
  .status { color: var(--muted); margin: .2rem 0 0; }
  .cards { display: flex; gap: 1rem; flex-wrap: wrap; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; min-width: 10rem; }
  .card b { display: block; font-size: 1.6rem; }
  input, button { font: inherit; padding: .25rem .5rem; }
  pre { background: #8881; padding: .8rem; overflow: auto; }
`;

/**
 * A server-rendered page: the shared header and style, the page's body and one inline script.
 * A fresh nonce per response lets that script (and no other) run under a strict CSP.
 */
export function sendPage(res: Response, options: { title: string; active: PageName; body: string; script: string }): void {
  const nonce = randomBytes(16).toString('base64');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
  );
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · Herald</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><strong>Herald</strong><nav>${NAV.map(
    (item) => `<a href="${item.href}"${item.name === options.active ? ' class="active"' : ''}>${escapeHtml(item.label)}</a>`,
  ).join('')}</nav></header>
<main>
${options.body}
</main>
<script nonce="${nonce}">
"use strict";
${CLIENT_HELPERS}
${options.script}
</script>
</body>
</html>
`);
}

/** Browser helpers both pages use: DOM building without innerHTML, number formatting. */
const CLIENT_HELPERS = `
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(name, value);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(child === null || child === undefined ? '' : String(child)));
  return node;
}
function fmt(n, digits) {
  if (n === null || n === undefined) return '—';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 0 : digits });
}
function pct(ratio) { return ratio === null || ratio === undefined ? '—' : (ratio * 100).toFixed(ratio < 0.1 ? 1 : 0) + '%'; }
function age(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + ' s';
  if (seconds < 3600) return (seconds / 60).toFixed(1) + ' min';
  return (seconds / 3600).toFixed(1) + ' h';
}
function replace(id, node) { const old = document.getElementById(id); node.id = id; old.replaceWith(node); }
// The dashboard's own URLs, on the page's origin: a page opened as http://user:password@host/admin
// has those credentials in its address, and fetch refuses any URL resolved against it.
function api(path) { return location.origin + path; }
`;
