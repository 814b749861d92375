// Pod networking with CNI plugins: what the CRI server imports.
export { CniManager, type CniOptions, type PodNetworkRequest } from './manager';
export { bridgeConflist } from './config';
export { CniPluginError } from './exec';
