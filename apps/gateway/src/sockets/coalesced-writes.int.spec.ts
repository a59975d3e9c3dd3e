import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Server } from 'socket.io';
import type { Socket as ServerSocket } from 'socket.io';
import { io as connect } from 'socket.io-client';
import type { Socket as ClientSocket } from 'socket.io-client';
import { waitFor } from '@herald/testing';
import { coalesceQueuedWrites } from './coalesced-writes.js';

/** Counts the writes (one `write`/`writev` each) of a server socket's TCP connection. */
function countWrites(socket: ServerSocket): { count: number } {
  const tcp = (socket.conn.transport as unknown as { socket: { _socket: { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void } } })
    .socket._socket;
  const counter = { count: 0 };
  const write = tcp._write.bind(tcp);
  const writev = tcp._writev.bind(tcp);
  tcp._write = (...args) => {
    counter.count++;
    write(...args);
  };
  tcp._writev = (...args) => {
    counter.count++;
    writev(...args);
  };
  return counter;
}

describe('coalesced writes', () => {
  let server: Server;
  const clients: ClientSocket[] = [];
  let url: string;

  beforeEach(async () => {
    const http = createServer();
    server = new Server(http, { transports: ['websocket'] });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await server.close();
  });

  /** A client, and what the server does with its socket, once both sides are connected. */
  async function pair(onServer: (socket: ServerSocket) => void): Promise<{ socket: ServerSocket; received: number[] }> {
    const connected = new Promise<ServerSocket>((resolve) => server.once('connection', resolve));
    const client = connect(url, { transports: ['websocket'] });
    clients.push(client);
    const received: number[] = [];
    client.on('n', (n: number) => received.push(n));
    const socket = await connected;
    onServer(socket);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { socket, received };
  }

  async function burst(socket: ServerSocket, received: number[]): Promise<void> {
    for (let n = 1; n <= 6; n++) socket.emit('n', n);
    await waitFor('the six packets', () => received.length === 6);
  }

  it('sends the packets engine.io queued behind a write in one write, in order', async () => {
    const plain = await pair(() => undefined);
    const plainWrites = countWrites(plain.socket);
    await burst(plain.socket, plain.received);

    const coalesced = await pair((socket) => coalesceQueuedWrites(socket.conn));
    const coalescedWrites = countWrites(coalesced.socket);
    await burst(coalesced.socket, coalesced.received);

    expect(plain.received).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(coalesced.received).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(plainWrites.count, 'a write per packet without the hook').to.equal(6);
    // The first packet goes out at once; the five queued behind it leave together.
    expect(coalescedWrites.count).to.equal(2);
  });

  it('leaves a connection whose transport is not as expected alone', () => {
    const listeners: string[] = [];
    const transport = { name: 'polling', send: () => undefined };
    coalesceQueuedWrites({ transport, on: (event) => listeners.push(event) });
    expect(transport.send.name).to.equal('send');
    expect(listeners).to.deep.equal(['upgrade']);
  });
});
