package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.PathBypassTest;

/** {@link PathBypassTest} on Jersey. */
class JerseyPathBypassTest extends PathBypassTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }
}
