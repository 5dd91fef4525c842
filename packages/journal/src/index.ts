export { Journal, DEFAULT_SEGMENT_SIZE, type JournalOptions, type JournalStats } from './journal';
export type { RecoveryReport } from './recovery';
export { DirectoryError, makeDirectory, probeWritable, type DirectoryStep } from './directory';
