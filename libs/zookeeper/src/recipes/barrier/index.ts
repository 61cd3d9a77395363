export { Barrier, type BarrierWaitOptions } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
