// The CRI wire contract (specs/cri/api.proto, runtime.v1 as in k8s.io/cri-api v0.34.0), loaded at
// run time rather than compiled in, so the .proto stays the single source of truth.
//
// Message types: `npm run build:proto` generates src/cri/generated/ (gitignored) with
// proto-loader-gen-types and the same loader options as below. Each message X has two types:
//   X__Output  what we receive: every field present (defaults filled), int64 as string, enums as names;
//   X          what we send: every field optional, int64 as number | string, enums as name or number.
// The aliases below pick the side tsrun's server uses each message on; for anything else use
// CriReceived<'Name'> / CriSent<'Name'>, or import from './generated/runtime/v1/<Name>'.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { TsrunError } from '../common/errors';
import type { ProtoGrpcType } from './generated/api';
import type { RuntimeServiceClient, RuntimeServiceDefinition, RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService';
import type { ImageServiceClient, ImageServiceDefinition, ImageServiceHandlers } from './generated/runtime/v1/ImageService';

// This file runs as dist/src/cri/proto.js; the repo root (holding specs/) is three levels up.
export const CRI_PROTO_PATH = path.resolve(__dirname, '..', '..', '..', 'specs', 'cri', 'api.proto');

// keepCase: field names as on the wire (pod_sandbox_id), matching the generated types.
// longs/enums as String: int64 timestamps exceed 2^53 ns; enum names read better than numbers.
// defaults + oneofs: received messages always carry every field, so handlers need no undefined checks.
export const CRI_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type Package = ProtoGrpcType['runtime']['v1'];
type MessageName = { [K in keyof Package]: Package[K] extends protoLoader.MessageTypeDefinition<object, object> ? K : never }[keyof Package];

/** A message as received (decoded): all fields present. */
export type CriReceived<N extends MessageName> = Package[N] extends protoLoader.MessageTypeDefinition<object, infer O> ? O : never;
/** A message as sent (to be encoded): all fields optional. */
export type CriSent<N extends MessageName> = Package[N] extends protoLoader.MessageTypeDefinition<infer I, object> ? I : never;

// Clients are constructed like any grpc-js client, but their methods are typed.
type TypedClientConstructor<C> = (new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>) => C) &
  grpc.ServiceClientConstructor;

export interface Cri {
  /** Pass to grpc.Server.addService together with RuntimeServiceHandlers. */
  RuntimeService: RuntimeServiceDefinition;
  ImageService: ImageServiceDefinition;
  runtimeClient: TypedClientConstructor<RuntimeServiceClient>;
  imageClient: TypedClientConstructor<ImageServiceClient>;
}

let cached: Cri | undefined;

export function loadCri(): Cri {
  if (cached) return cached;
  if (!fs.existsSync(CRI_PROTO_PATH))
    throw new TsrunError('TSRUN_E_SYS', `CRI API definition ${CRI_PROTO_PATH} is missing (is tsrun run from its built tree?)`);
  let pkg: Package;
  try {
    const definition = protoLoader.loadSync(CRI_PROTO_PATH, CRI_LOADER_OPTIONS);
    pkg = (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).runtime.v1;
  } catch (e) {
    throw new TsrunError('TSRUN_E_SYS', `CRI API definition ${CRI_PROTO_PATH} cannot be loaded: ${(e as Error).message}`);
  }
  if (!pkg?.RuntimeService?.service || !pkg.ImageService?.service) {
    throw new TsrunError('TSRUN_E_SYS', `CRI API definition ${CRI_PROTO_PATH} lacks runtime.v1.RuntimeService or runtime.v1.ImageService`);
  }
  cached = {
    RuntimeService: pkg.RuntimeService.service,
    ImageService: pkg.ImageService.service,
    runtimeClient: pkg.RuntimeService as unknown as Cri['runtimeClient'],
    imageClient: pkg.ImageService as unknown as Cri['imageClient'],
  };
  return cached;
}

export type { RuntimeServiceClient, RuntimeServiceHandlers, ImageServiceClient, ImageServiceHandlers };

// Received in requests (decoded, complete).
export type PodSandboxConfig = CriReceived<'PodSandboxConfig'>;
export type PodSandboxMetadata = CriReceived<'PodSandboxMetadata'>;
export type LinuxPodSandboxConfig = CriReceived<'LinuxPodSandboxConfig'>;
export type LinuxSandboxSecurityContext = CriReceived<'LinuxSandboxSecurityContext'>;
export type NamespaceOption = CriReceived<'NamespaceOption'>;
export type DNSConfig = CriReceived<'DNSConfig'>;
export type PortMapping = CriReceived<'PortMapping'>;
export type ContainerConfig = CriReceived<'ContainerConfig'>;
export type ContainerMetadata = CriReceived<'ContainerMetadata'>;
export type LinuxContainerConfig = CriReceived<'LinuxContainerConfig'>;
export type LinuxContainerSecurityContext = CriReceived<'LinuxContainerSecurityContext'>;
export type LinuxContainerResources = CriReceived<'LinuxContainerResources'>;
export type SecurityProfile = CriReceived<'SecurityProfile'>;
export type Capability = CriReceived<'Capability'>;
export type Mount = CriReceived<'Mount'>;
export type Device = CriReceived<'Device'>;
export type KeyValue = CriReceived<'KeyValue'>;
export type ImageSpec = CriReceived<'ImageSpec'>;
export type AuthConfig = CriReceived<'AuthConfig'>;
export type PodSandboxFilter = CriReceived<'PodSandboxFilter'>;
export type ContainerFilter = CriReceived<'ContainerFilter'>;
export type ContainerStatsFilter = CriReceived<'ContainerStatsFilter'>;
export type PodSandboxStatsFilter = CriReceived<'PodSandboxStatsFilter'>;

// Built by tsrun for responses (all fields optional; received values above fit into them).
export type VersionResponse = CriSent<'VersionResponse'>;
export type PodSandboxStatus = CriSent<'PodSandboxStatus'>;
export type PodSandbox = CriSent<'PodSandbox'>;
export type ContainerStatus = CriSent<'ContainerStatus'>;
export type Container = CriSent<'Container'>;
export type ContainerStats = CriSent<'ContainerStats'>;
export type PodSandboxStats = CriSent<'PodSandboxStats'>;
export type Image = CriSent<'Image'>;
export type FilesystemUsage = CriSent<'FilesystemUsage'>;
export type RuntimeCondition = CriSent<'RuntimeCondition'>;
export type StatusResponse = CriSent<'StatusResponse'>;
export type ContainerEventResponse = CriSent<'ContainerEventResponse'>;

// Enum values by name (enums: String), as received.
export type { ContainerState__Output as ContainerState } from './generated/runtime/v1/ContainerState';
export type { PodSandboxState__Output as PodSandboxState } from './generated/runtime/v1/PodSandboxState';
export type { NamespaceMode__Output as NamespaceMode } from './generated/runtime/v1/NamespaceMode';
export type { MountPropagation__Output as MountPropagation } from './generated/runtime/v1/MountPropagation';
export type { Protocol__Output as Protocol } from './generated/runtime/v1/Protocol';
export type { Signal__Output as Signal } from './generated/runtime/v1/Signal';
export type { ContainerEventType__Output as ContainerEventType } from './generated/runtime/v1/ContainerEventType';
