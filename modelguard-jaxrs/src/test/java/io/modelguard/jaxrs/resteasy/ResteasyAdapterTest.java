package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.AdapterBehaviourTest;
import io.modelguard.jaxrs.JaxrsRuntime;

/** The adapter's own behaviour on RESTEasy. */
class ResteasyAdapterTest extends AdapterBehaviourTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }
}
