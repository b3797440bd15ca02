export * from './cidr.js';
export * from './model.js';
export { plan } from './plan.js';
export { chooseMulti, chooseSingle, normalizeCandidates } from './targets.js';
