// Pod networking with CNI plugins: what the CRI server imports.
export { CniManager, isNetns, type CniOptions, type CniStatus, type PortMapping, type BandwidthLimits, type IpRange, type PodNetworkRequest } from './manager';
export type { PodNetworkResult, PodInterface, PodIp, PodRoute } from './result';
export { bridgeConflist, loadDefaultNetwork, type BridgeConflistOptions, type NetworkConfigList } from './config';
export { CniPluginError } from './exec';
