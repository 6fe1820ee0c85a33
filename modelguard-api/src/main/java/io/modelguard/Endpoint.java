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

  private Endpoint(String model, String chain, int cost) {
    this.model = model;
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
   */
  public static Endpoint of(String model, String chain, int cost) {
    return new Endpoint(isValidModelId(model) ? model : null, chain, cost);
  }

  /**
   * Whether {@code id} is a syntactically valid model id: 1–64 characters of {@code
   * [A-Za-z0-9._-]}, the first a letter or digit.
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
   * The model id; empty when the adapter could not resolve it. The engine itself does not deny
   * such a request: {@link io.modelguard.authz.ModelAccessPolicy} does ({@code
   * authz.model_forbidden}), and a chain without it treats the request as one for no model (a
   * {@link io.modelguard.quota.QuotaPolicy}, for one, charges it nothing), as a catalog endpoint
   * wants. Put {@code ModelAccessPolicy} in every chain that guards a model.
   */
  public Optional<String> model() {
    return Optional.ofNullable(model);
  }

  /** The policy chain name. */
  public String chain() {
    return chain;
  }

  /** Cost units of one call, at least 1. */
  public int cost() {
    return cost;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Endpoint
        && Objects.equals(model, ((Endpoint) o).model)
        && chain.equals(((Endpoint) o).chain)
        && cost == ((Endpoint) o).cost;
  }

  @Override
  public int hashCode() {
    return Objects.hash(model, chain, cost);
  }

  @Override
  public String toString() {
    return "Endpoint[model=" + model + ", chain=" + chain + ", cost=" + cost + "]";
  }
}
