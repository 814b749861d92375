// CRI failures as gRPC statuses: the kubelet acts on the code (NotFound means gone,
// AlreadyExists a name conflict), so every error crossing the wire gets the right one.
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { TsrunError } from '../common/errors';

export class CriError extends Error {
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = 'CriError';
  }
}

export const notFound = (what: string): CriError => new CriError(Status.NOT_FOUND, what);
export const invalid = (what: string): CriError => new CriError(Status.INVALID_ARGUMENT, what);
export const conflict = (what: string): CriError => new CriError(Status.ALREADY_EXISTS, what);
export const badState = (what: string): CriError => new CriError(Status.FAILED_PRECONDITION, what);

const FROM_TSRUN: Partial<Record<TsrunError['code'], Status>> = {
  TSRUN_E_USAGE: Status.INVALID_ARGUMENT,
  TSRUN_E_CONFIG: Status.INVALID_ARGUMENT,
  TSRUN_E_ID: Status.INVALID_ARGUMENT,
  TSRUN_E_EXISTS: Status.ALREADY_EXISTS,
  TSRUN_E_NOT_FOUND: Status.NOT_FOUND,
  TSRUN_E_IMAGE_NOT_FOUND: Status.NOT_FOUND,
  TSRUN_E_STATE: Status.FAILED_PRECONDITION,
  TSRUN_E_UNSUPPORTED: Status.UNIMPLEMENTED,
  TSRUN_E_TIMEOUT: Status.DEADLINE_EXCEEDED,
  TSRUN_E_REGISTRY: Status.UNKNOWN,
};

export function toServiceError(e: unknown): Partial<ServiceError> {
  if (e instanceof CriError) return { code: e.code, details: e.message, message: e.message };
  if (e instanceof TsrunError) {
    const code = FROM_TSRUN[e.code] ?? Status.UNKNOWN;
    return { code, details: `${e.code}: ${e.message}`, message: e.message };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: Status.UNKNOWN, details: msg, message: msg };
}
