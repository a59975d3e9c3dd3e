/**
 * The part of the browser's DOM the demo script uses, typed here instead of through the `dom`
 * lib: the repository type-checks Node and browser code in one program (the root tsconfig), and
 * `/// <reference lib="dom" />` would apply to all of it, changing Node's own types (fetch's
 * `ReadableStream` loses its async iterator, `document` becomes usable on the server). These
 * declarations are module-scoped, so nothing outside `src/browser/` sees them.
 */

export interface DemoElement {
  readonly id: string;
  className: string;
  title: string;
  textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly childElementCount: number;
  readonly lastElementChild: DemoElement | null;
  append(...nodes: (DemoElement | string)[]): void;
  prepend(...nodes: (DemoElement | string)[]): void;
  replaceChildren(...nodes: (DemoElement | string)[]): void;
  remove(): void;
  querySelector(selector: string): DemoElement | null;
  setAttribute(name: string, value: string): void;
  addEventListener(type: 'click', listener: () => void): void;
}

export interface DemoButton extends DemoElement {
  type: string;
  disabled: boolean;
}

interface DemoDocument {
  readonly body: DemoElement;
  getElementById(id: string): DemoElement | null;
  createElement(tag: 'button'): DemoButton;
  createElement(tag: 'section' | 'header' | 'span' | 'li' | 'pre'): DemoElement;
}

interface BrowserGlobals {
  document: DemoDocument;
  location: { readonly search: string };
  history: { replaceState(data: null, unused: string, url: string): void };
  localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  CSS: { escape(value: string): string };
  addEventListener(type: 'pagehide', listener: () => void): void;
}

/** The page's globals (the script only ever runs in a browser). */
const browser = globalThis as unknown as BrowserGlobals;
export const { document, location, history, CSS } = browser;

/** localStorage, read when used: merely touching it throws where storage is disabled. */
export function webStorage(): BrowserGlobals['localStorage'] {
  return browser.localStorage;
}

export function onPageHide(listener: () => void): void {
  browser.addEventListener('pagehide', listener);
}
