package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.Http2BodiesTest;
import io.modelguard.jaxrs.JaxrsRuntime;

class JerseyHttp2BodiesTest extends Http2BodiesTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }
}
