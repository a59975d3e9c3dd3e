/**
 * A minimal Socket.IO node with the Redis adapter, for benchmarks that need receivers but not
 * the gateway's auth, presence or recovery: each socket joins the room of the device named in
 * its handshake. Prints "ready <port>" when listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { deviceRoom } from '@herald/contracts';
import { createKeys } from '@herald/redis';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const keys = createKeys(process.env['HERALD_KEY_PREFIX'] ?? 'herald');
const pub = new Redis(url);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub, { key: keys.socketIoPrefix }), transports: ['websocket'] });
io.on('connection', (socket) => {
  const { accountId, deviceId } = socket.handshake.auth as { accountId: string; deviceId: string };
  void socket.join(deviceRoom(accountId, deviceId));
  socket.emit('joined' as never);
});
http.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  console.log(`ready ${(http.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
