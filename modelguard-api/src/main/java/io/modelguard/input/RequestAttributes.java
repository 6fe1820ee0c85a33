package io.modelguard.input;

import java.util.Optional;

/**
 * Per-request attributes, for {@link io.modelguard.InferenceRequest} implementations that can carry
 * them (a servlet adapter maps them to {@code ServletRequest} attributes, a JAX-RS adapter to
 * {@code ContainerRequestContext} properties). {@link ModelInputPolicy} stores the {@link
 * FetchedInputs} of a request here, under {@link FetchedInputs#ATTRIBUTE}, so the application's
 * handler reads the bytes that were checked instead of fetching the URL a second time.
 */
public interface RequestAttributes {

  /**
   * Stores {@code value} under {@code name}, replacing an earlier value; a null value removes it.
   *
   * @param name the attribute name, such as {@link FetchedInputs#ATTRIBUTE}
   * @param value the value, or null to remove the attribute
   */
  void setAttribute(String name, Object value);

  /**
   * {@return the value stored under {@code name}, if any}
   *
   * @param name the attribute name
   */
  Optional<Object> attribute(String name);
}
