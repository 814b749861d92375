// The per-container monitor (native/monitor, like conmon): start it, talk to it, read what it
// recorded. The CRI server uses only this.
export { launchMonitor, type IoOptions, type LaunchedMonitor, type StartedMonitor } from './start';
export { readExit, watchExit, waitExit, type ExitRecord } from './exit';
export { reopenLog, resizeTty, signalInit } from './control';
export { attach, type AttachSession } from './attach';
export { MONITOR_BINARY, MonitorFile, monitorAlive, monitorOf } from './files';
