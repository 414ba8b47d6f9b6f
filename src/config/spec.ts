// The lab file's types are the model's (model/spec.ts); the loader's callers find them here too.
export * from '../model/spec.js';
