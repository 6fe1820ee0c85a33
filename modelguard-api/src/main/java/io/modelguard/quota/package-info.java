/**
 * Quotas: rate, volume and cost limits per tenant × model, and a pre-authentication limit per
 * client address.
 *
 * <ul>
 *   <li>{@link io.modelguard.quota.QuotaLimit} and {@link io.modelguard.quota.QuotaPlan} say what
 *       is allowed (token buckets for rates, sliding-window counters for volumes); tiers carry
 *       them per model ({@link io.modelguard.Tier#quotaPlan(String)}).
 *   <li>{@link io.modelguard.quota.QuotaPolicy} (phase QUOTA) and {@link
 *       io.modelguard.quota.UnauthenticatedLimit} (phase AUTHENTICATE) apply them and add the
 *       {@code RateLimit-Policy} / {@code RateLimit} headers: {@code QuotaPolicy} to the requests
 *       it admits and those it refuses with {@code quota.exceeded}; {@code UnauthenticatedLimit}
 *       only to its own {@code quota.exceeded} refusals. They are {@link
 *       io.modelguard.RateLimitItems}, which the engine merges when several policies decide one
 *       request; a decision the store did not count (failing open) carries none.
 *   <li>{@link io.modelguard.quota.QuotaStore} keeps the counts: {@link
 *       io.modelguard.quota.InMemoryQuotaStore} in one JVM, {@code RedisQuotaStore} (module
 *       {@code modelguard-redis}) across many, behind a {@link
 *       io.modelguard.quota.ResilientQuotaStore} with an explicit {@link
 *       io.modelguard.quota.FailurePolicy}. Every store shares {@link
 *       io.modelguard.quota.QuotaArithmetic} and passes the store-compatibility suite of {@code
 *       modelguard-test}.
 *   <li>A decision is a value: {@link io.modelguard.quota.QuotaDecision}.
 * </ul>
 */
package io.modelguard.quota;
