package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.AnnotationReachTest;
import io.modelguard.jaxrs.JaxrsRuntime;

/** Where {@code @ModelSecured} reaches, on Jersey. */
class JerseyAnnotationReachTest extends AnnotationReachTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }
}
