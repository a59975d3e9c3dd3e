import { z } from 'zod';

/** Device platforms. Web and TV are pushed to over Socket.IO; iOS and Android pull. */
export const PLATFORMS = ['web', 'tv', 'ios', 'android'] as const;
export const PlatformSchema = z.enum(PLATFORMS);
export type Platform = z.infer<typeof PlatformSchema>;

/** Priorities, most urgent first. Each has its own streams, consumer group and workers. */
export const PRIORITIES = ['high', 'medium', 'low'] as const;
export const PrioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof PrioritySchema>;
