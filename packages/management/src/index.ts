export { createManagementApp, type ManagementOptions } from './app';
export { listenManagement, type ManagementListener, type ManagementListenOptions } from './listen';
export type { ListenerInfo } from './api';
export { ApiError } from './errors';
export { RABBITMQ_COMPATIBILITY } from './routes/overview';
export type { ClusterPeers, Question as ClusterQuestion } from './cluster';
