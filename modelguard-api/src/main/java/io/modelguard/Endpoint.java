package io.modelguard;

import java.util.Objects;
import java.util.Optional;

/**
 * The guarded endpoint a request is for, resolved by an adapter: the model (if it could be
 * resolved), the policy chain, and the cost of one call. Immutable.
 */
public final class Endpoint {
  /** The longest model id. */
  private static final int MAX_MODEL_ID = 64;

  private final String model;
  private final String chain;
  private final int cost;
  private final boolean unresolved;

  private Endpoint(String model, String chain, int cost, boolean unresolved) {
    this.model = model;
    this.unresolved = unresolved;
    this.chain = Objects.requireNonNull(chain, "chain");
    if (cost < 1) {
      throw new IllegalArgumentException("Endpoint.cost must be at least 1, was " + cost);
    }
    this.cost = cost;
  }

  /**
   * An endpoint for {@code model} (which may be null when it could not be resolved). A model id
   * that is not 1–64 characters of {@code [A-Za-z0-9._-]} starting with a letter or digit is
   * treated as unresolved, so a hostile path never reaches policies or response headers.
   *
   * @param model the model id, or null if the endpoint has none
   * @param chain the name of the policy chain that guards the endpoint; not null
   * @param cost the cost units of one call, at least 1
   * @return a new endpoint, its model null if {@code model} is not a valid model id
   */
  public static Endpoint of(String model, String chain, int cost) {
    return new Endpoint(isValidModelId(model) ? model : null, chain, cost, false);
  }

  /**
   * An endpoint whose model the request was meant to name but does not: a path variable that
   * the endpoint's template declares, with no valid model id in the request's path (the path did
   * not match the template, or the value is not a model id). The engine denies such a request
   * ({@code authz.model_forbidden}) whatever its chain, once it is authenticated ({@link
   * #isUnresolved}).
   *
   * @param chain the name of the policy chain that guards the endpoint; not null
   * @param cost the cost units of one call, at least 1
   * @return a new endpoint with no model, marked unresolved
   */
  public static Endpoint unresolved(String chain, int cost) {
    return new Endpoint(null, chain, cost, true);
  }

  /**
   * Whether the request was meant to name a model and does not ({@link #unresolved}); false for
   * an endpoint without a model by design, such as a catalog whose template declares no model
   * variable.
   *
   * @return true for an endpoint built by {@link #unresolved}
   */
  public boolean isUnresolved() {
    return unresolved;
  }

  /**
   * Whether {@code id} is a syntactically valid model id: 1–64 characters of {@code
   * [A-Za-z0-9._-]}, the first a letter or digit.
   *
   * @param id the candidate id; null is not valid
   * @return true if {@code id} may be used as a model id
   */
  public static boolean isValidModelId(String id) {
    // A loop, not a regular expression: adapters check the id of every request.
    if (id == null || id.isEmpty() || id.length() > MAX_MODEL_ID || !isLetterOrDigit(id.charAt(0))) {
      return false;
    }
    for (int i = 1; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!isLetterOrDigit(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    return true;
  }

  /** ASCII only: {@link Character#isLetterOrDigit} would accept any script. */
  private static boolean isLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /**
   * The model id; empty for an endpoint without a model. If the request was meant to name one and
   * does not ({@link #isUnresolved}), the engine denies it ({@code authz.model_forbidden}) after
   * authentication, whatever the chain; an endpoint without a model by design (a catalog, whose
   * template declares no model variable) passes to its chain, where {@link
   * io.modelguard.authz.ModelAccessPolicy} denies it and a {@link io.modelguard.quota.QuotaPolicy}
   * charges it nothing.
   *
   * @return the model id, or empty if the endpoint has none
   */
  public Optional<String> model() {
    return Optional.ofNullable(model);
  }

  /** {@return the policy chain name} */
  public String chain() {
    return chain;
  }

  /**
   * Cost units of one call, at least 1.
   *
   * @return the cost of one call, at least 1
   */
  public int cost() {
    return cost;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Endpoint
        && Objects.equals(model, ((Endpoint) o).model)
        && unresolved == ((Endpoint) o).unresolved
        && chain.equals(((Endpoint) o).chain)
        && cost == ((Endpoint) o).cost;
  }

  @Override
  public int hashCode() {
    return Objects.hash(model, chain, cost);
  }

  @Override
  public String toString() {
    return "Endpoint[model=" + (unresolved ? "(unresolved)" : model) + ", chain=" + chain + ", cost=" + cost + "]";
  }
}
