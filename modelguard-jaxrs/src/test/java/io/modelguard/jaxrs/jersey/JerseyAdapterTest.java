package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.AdapterBehaviourTest;
import io.modelguard.jaxrs.JaxrsRuntime;

/** The adapter's own behaviour on Jersey. */
class JerseyAdapterTest extends AdapterBehaviourTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }
}
