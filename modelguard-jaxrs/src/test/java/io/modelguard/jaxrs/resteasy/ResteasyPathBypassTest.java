package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.PathBypassTest;

/** {@link PathBypassTest} on RESTEasy. */
class ResteasyPathBypassTest extends PathBypassTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }
}
