// Errors with stable codes. Every failure the user sees is one of these, so scripts (and the
// CRI) can tell kinds apart without parsing messages.
export type ErrorCode =
  | 'TSRUN_E_USAGE' // bad command line
  | 'TSRUN_E_CONFIG' // config.json malformed or unsupported
  | 'TSRUN_E_BUNDLE' // bundle directory or rootfs missing
  | 'TSRUN_E_ID' // invalid container id
  | 'TSRUN_E_EXISTS' // container id already in use
  | 'TSRUN_E_PERMISSION' // the caller lacks the privileges (not root)
  | 'TSRUN_E_NOT_FOUND' // no such container
  | 'TSRUN_E_STATE' // operation not allowed in the container's current state
  | 'TSRUN_E_INIT' // the container-side init failed (errno + message from native code)
  | 'TSRUN_E_CGROUP' // cgroup setup or teardown
  | 'TSRUN_E_HOOK' // a hook failed
  | 'TSRUN_E_SYS' // a syscall in the runtime itself failed
  | 'TSRUN_E_UNSUPPORTED' // asked for something tsrun does not do (yet)
  | 'TSRUN_E_DIGEST' // content does not match its digest (or size)
  | 'TSRUN_E_LAYER' // a layer tar is malformed or tries to escape its directory
  | 'TSRUN_E_REGISTRY' // a registry refused or failed a request
  | 'TSRUN_E_IMAGE_NOT_FOUND' // no such image in the store
  | 'TSRUN_E_CNI' // pod networking: no usable CNI config, a plugin missing or failing
  | 'TSRUN_E_TIMEOUT'; // an operation did not finish in its time

export class TsrunError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = 'TsrunError';
  }
}

export function isErrnoError(e: unknown, code?: string): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (!code || (e as NodeJS.ErrnoException).code === code);
}
