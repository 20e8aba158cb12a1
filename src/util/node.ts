// The util face for Node-only helpers (atomic file writes).
export * from './fs.ts';
