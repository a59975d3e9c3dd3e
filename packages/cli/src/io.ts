/** Where a command writes and how it learns it should stop: the process in `main.ts`, doubles in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Calls `handler` on Ctrl-C (SIGINT), SIGTERM or SIGHUP; returns a function that stops listening. */
  onInterrupt(handler: () => void): () => void;
}
