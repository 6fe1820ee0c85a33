package io.modelguard.servlet;

import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.servlet.testapp.TomcatRuntime;

/** {@link Http2BodiesContract} on Tomcat 11. */
class TomcatHttp2BodiesTest extends Http2BodiesContract {
  @Override
  ServletRuntime runtime() {
    return new TomcatRuntime();
  }
}
