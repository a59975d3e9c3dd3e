import type { RedisClient } from '@herald/redis';

/**
 * Emits to Socket.IO rooms from outside the gateways, through their sharded Redis adapter
 * (`createShardedAdapter`, static mode): a ClusterAdapter broadcast, SPUBLISHed on the
 * namespace's channel, which every gateway node follows. What `@socket.io/redis-emitter` does
 * for the classic adapter (its PUBLISH never reaches a sharded subscriber).
 */
export class ShardedEmitter {
  private readonly channel: string;

  constructor(
    private readonly redis: RedisClient,
    /** The adapter's `channelPrefix` (`keys.socketIoPrefix`). */
    channelPrefix: string,
  ) {
    this.channel = `${channelPrefix}#/#`;
  }

  to(room: string): { emit(event: string, ...args: unknown[]): void } {
    return {
      emit: (event, ...args) => {
        // MessageType.BROADCAST (3) carrying a Socket.IO EVENT packet (2), as socket.io-adapter's ClusterAdapter encodes it.
        const message = {
          uid: 'emitter',
          nsp: '/',
          type: 3,
          data: { opts: { rooms: [room], except: [], flags: {} }, packet: { type: 2, data: [event, ...args], nsp: '/' } },
        };
        void this.redis.spublish(this.channel, JSON.stringify(message));
      },
    };
  }
}
