/**
 * The parts of an engine.io connection (6.6.x) this hook touches. A WebSocket transport keeps
 * its `ws` WebSocket in `socket`, and `ws` its TCP socket in `_socket`: neither is public API,
 * which is why every step checks the shape and leaves the connection as it is otherwise.
 */
interface EngineConnection {
  transport: unknown;
  on(event: 'upgrade', listener: (transport: unknown) => void): unknown;
}

interface WebSocketTransport {
  name: 'websocket';
  send(packets: unknown[]): void;
  socket: { _socket?: unknown };
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

function isWebSocketTransport(transport: unknown): transport is WebSocketTransport {
  const candidate = transport as Partial<WebSocketTransport> | null;
  return candidate?.name === 'websocket' && typeof candidate.send === 'function' && typeof candidate.socket === 'object' && candidate.socket !== null;
}

function isCorkable(socket: unknown): socket is Corkable {
  const candidate = socket as Partial<Corkable> | null;
  return typeof candidate?.cork === 'function' && typeof candidate.uncork === 'function';
}

/**
 * Makes the packets engine.io flushes together leave in one write. engine.io sends the first
 * packet of a tick at once and queues the ones after it until that write is done; then it
 * sends the queue packet by packet, and `ws` writes each frame on its own: one `writev` per
 * notification, the gateway's largest cost under load (42% of its CPU in bench/pipeline, where
 * a router batch holds several notifications per device). Corking the TCP socket around the
 * queue's send makes them one `writev`. Nothing changes for a connection that gets one packet
 * at a time, for polling transports, or if the internals are not as expected.
 */
export function coalesceQueuedWrites(connection: EngineConnection): void {
  const patch = (transport: unknown) => {
    if (!isWebSocketTransport(transport)) return;
    const tcp = transport.socket._socket;
    if (!isCorkable(tcp)) return;
    const send = transport.send.bind(transport);
    transport.send = (packets) => {
      if (packets.length < 2) {
        send(packets);
        return;
      }
      tcp.cork();
      try {
        send(packets);
      } finally {
        tcp.uncork();
      }
    };
  };
  patch(connection.transport);
  connection.on('upgrade', patch);
}
