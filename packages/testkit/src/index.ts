export * from './core-client';
export * from './wait';
