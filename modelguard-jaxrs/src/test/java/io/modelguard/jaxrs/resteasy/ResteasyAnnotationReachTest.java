package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.AnnotationReachTest;
import io.modelguard.jaxrs.JaxrsRuntime;

/** Where {@code @ModelSecured} reaches, on RESTEasy. */
class ResteasyAnnotationReachTest extends AnnotationReachTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }
}
