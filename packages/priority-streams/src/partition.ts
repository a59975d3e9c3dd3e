import { crc32 } from 'node:zlib';

/** The partition of an account: stable for a given partition count, spread evenly by CRC-32. */
export function partitionOf(accountId: string, partitions: number): number {
  return crc32(accountId) % partitions;
}
