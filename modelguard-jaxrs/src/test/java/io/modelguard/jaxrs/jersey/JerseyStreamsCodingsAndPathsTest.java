package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.StreamsCodingsAndPathsTest;

class JerseyStreamsCodingsAndPathsTest extends StreamsCodingsAndPathsTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }
}
