// The release spec: schema, types, loading.
export * from '../core/duration.js';
export * from './load.js';
export * from './schema.js';
