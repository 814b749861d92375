// What the streaming server needs from the runtime, and the CRI requests it turns into URLs.
import type { EventEmitter } from 'node:events';
import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * The client's ends of one exec or attach. A stream the client did not ask for is absent.
 * stdin ends when the client closes it (or goes away). stdout/stderr are 'close'd (destroyed,
 * never 'error'ed) when the client goes away, so the runtime can stop copying.
 */
export interface StreamIO {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /**
   * Present for tty sessions: emits 'resize', { width, height } for every size the client sends;
   * a listener added after a size came is called with the latest one at once.
   */
  resize?: EventEmitter;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamingRuntime {
  /** Resolves with the command's exit code; a rejection is reported to the client as an internal error. */
  exec(containerId: string, cmd: string[], io: StreamIO): Promise<{ exitCode: number }>;
  attach(containerId: string, io: StreamIO): Promise<void>;
  /**
   * One forwarded connection: stream carries its bytes both ways. Resolve when done; a rejection
   * goes to the client's error stream. A reset by the client or a lost connection destroys stream
   * ('close' without 'end').
   */
  portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void>;
}

// Field names as in the CRI protos (runtime.v1 ExecRequest, AttachRequest, PortForwardRequest).
export interface ExecRequest {
  container_id: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface AttachRequest {
  container_id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface PortForwardRequest {
  pod_sandbox_id: string;
  port: number[];
}
