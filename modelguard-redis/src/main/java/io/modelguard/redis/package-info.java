/**
 * The Redis quota store: {@link io.modelguard.redis.RedisQuotaStore}, one atomic Lua script per
 * (coalesced) decision on standalone Redis or Redis Cluster, with a per-call timeout, a circuit
 * breaker and an explicit failure policy. And {@link io.modelguard.redis.RedisRiskExchange}, which
 * shares the levels the extraction defences raise between instances over Redis pub/sub.
 */
package io.modelguard.redis;
