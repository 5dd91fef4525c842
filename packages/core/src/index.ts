export * from './field-table';
export * from './properties';
export * from './errors';
export * from './limits';
export * from './logger';
export * from './broker';
