// What the error stream carries when a command ends. v4+ (and v5 over WebSocket) send a
// metav1.Status as JSON, which client-go's errorDecoderV4 turns into an exit code; older versions
// send only a failure's message text. Field order and wording follow kubelet's remotecommand server.

export type CommandOutcome = { kind: 'exit'; code: number } | { kind: 'error'; message: string };

interface StatusCause {
  reason?: string;
  message?: string;
}

interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: StatusCause[] };
  code?: number;
}

export function outcomeStatus(outcome: CommandOutcome): Status {
  if (outcome.kind === 'exit') {
    if (outcome.code === 0) return { metadata: {}, status: 'Success' };
    return {
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: exit status ${outcome.code}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(outcome.code) }] },
    };
  }
  // apierrors.NewInternalError
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${outcome.message}`,
    reason: 'InternalError',
    details: { causes: [{ message: outcome.message }] },
    code: 500,
  };
}

/** The error stream's bytes for a protocol version; empty when that version sends nothing (v1 success). */
export function encodeOutcome(outcome: CommandOutcome, jsonStatus: boolean): Buffer {
  const status = outcomeStatus(outcome);
  if (jsonStatus) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? Buffer.alloc(0) : Buffer.from(status.message ?? '');
}
