import { stopTestRedisServer } from './test-redis.js';

/** Mocha global fixture (loaded with --require): stops the run's throwaway Redis. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestRedisServer();
}
