export * from './core-client';
export * from './memory-transport';
export * from './wait';
