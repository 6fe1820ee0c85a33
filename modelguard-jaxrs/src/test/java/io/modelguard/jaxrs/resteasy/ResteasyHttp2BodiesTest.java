package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.Http2BodiesTest;
import io.modelguard.jaxrs.JaxrsRuntime;

class ResteasyHttp2BodiesTest extends Http2BodiesTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }
}
