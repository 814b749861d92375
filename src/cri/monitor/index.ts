// The per-container monitor (native/monitor, like conmon): start it, talk to it, read what it
// recorded. The CRI server uses only this.
export { launchMonitor, type IoOptions, type LaunchedMonitor, type StartedMonitor } from './start';
export { readExit, watchExit, waitExit, type ExitRecord } from './exit';
export { reopenLog, resizeTty, signalInit } from './control';
export { attach } from './attach';
export { monitorAlive, monitorOf } from './files';
