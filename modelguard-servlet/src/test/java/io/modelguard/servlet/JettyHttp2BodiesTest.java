package io.modelguard.servlet;

import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.servlet.testapp.ServletRuntime;

/** {@link Http2BodiesContract} on Jetty 12 (ee10). */
class JettyHttp2BodiesTest extends Http2BodiesContract {
  @Override
  ServletRuntime runtime() {
    return new JettyRuntime();
  }
}
