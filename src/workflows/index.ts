// The workflows a tidegate worker registers.
export { release } from './release.js';
export { serviceLock } from './lock.js';
export { globalFreeze } from './freeze.js';
export { releaseTrain } from './train.js';
export { waveRelease } from './waves.js';
