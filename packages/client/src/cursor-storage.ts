/**
 * Where a device keeps the cursor of the last notification it processed, so it resumes from
 * there after a reconnect or a restart. Pluggable: localStorage in a browser, a file or
 * AsyncStorage elsewhere; both sync and async implementations work.
 */
export interface CursorStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  /** Optional: called when the cursor is forgotten (a reset on an empty history). */
  remove?(key: string): void | Promise<void>;
}

/** Keeps cursors in memory: they last as long as the storage object. The default outside browsers. */
export class MemoryCursorStorage implements CursorStorage {
  private readonly values = new Map<string, string>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  set(key: string, value: string): void {
    this.values.set(key, value);
  }

  remove(key: string): void {
    this.values.delete(key);
  }
}

/** The part of the Web Storage API this uses (`localStorage`, `sessionStorage`). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Keeps cursors in a Web Storage object, e.g. `new WebCursorStorage(window.localStorage)`. */
export class WebCursorStorage implements CursorStorage {
  constructor(private readonly storage: WebStorageLike) {}

  get(key: string): string | null {
    return this.storage.getItem(key);
  }

  set(key: string, value: string): void {
    this.storage.setItem(key, value);
  }

  remove(key: string): void {
    this.storage.removeItem(key);
  }
}

/**
 * localStorage in a browser (when the page may use it: private modes and sandboxed frames throw),
 * otherwise a new in-memory storage. Only pages count as browsers: recent Node versions have a
 * `localStorage` global of their own, which is not where a Node app expects its state.
 */
export function defaultCursorStorage(): CursorStorage {
  const scope = globalThis as { window?: unknown; document?: unknown; localStorage?: WebStorageLike };
  if (typeof scope.window === 'object' && typeof scope.document === 'object') {
    try {
      const storage = scope.localStorage;
      if (storage !== undefined) {
        const probe = '__herald_probe__';
        storage.setItem(probe, probe);
        storage.removeItem(probe);
        return new WebCursorStorage(storage);
      }
    } catch {
      // Storage is disabled: fall through to memory.
    }
  }
  return new MemoryCursorStorage();
}
