/**
 * `wskit/redis`: a broker that carries `WebSocketServer#publish` across processes and machines
 * over Redis (streams, one per topic), on the official `redis` client (a peer dependency of this
 * entry only). `new WebSocketServer({ port, broker: redisBroker({ url }) })`.
 */
export { BrokerError, type BrokerErrorCode } from '../node/broker.js';
export { RedisBroker, type RedisBrokerOptions, redisBroker } from './redis-broker.js';
