package io.modelguard.extraction;

/**
 * Whose queries {@link ExtractionDefence}'s policies fold into one client: one extraction history,
 * one risk level and graduated response, one noise key. An unauthenticated request is keyed by its
 * address in either scope ({@code a:<address>}, as quota keys count it).
 */
public enum ClientScope {
  /**
   * Each authenticated subject of a tenant is its own client ({@code p:<tenant>:<subject>}); the
   * default. Suits tenants whose subjects are independent users. A tenant that can mint API keys or
   * subjects itself gets a fresh history, and fresh noise, with each one, so an extraction spread
   * over many keys is never seen as one: use {@link #TENANT} for such tenants.
   */
  PRINCIPAL,

  /**
   * All subjects of a tenant are one client ({@code t:<tenant>}): their queries feed one history,
   * a flag raises the whole tenant's level (a block or throttle holds for all its keys), and the
   * noise is keyed by the tenant, so two keys of the tenant asking one input get the same answer
   * and cannot average each other's noise away. The cost: one state for a tenant's whole traffic,
   * so the detectors see its benign users' queries interleaved (calibrate thresholds on a tenant's
   * traffic, not a user's). A principal without a tenant has its subject as tenant ({@link
   * io.modelguard.Principal#tenant}).
   */
  TENANT
}
