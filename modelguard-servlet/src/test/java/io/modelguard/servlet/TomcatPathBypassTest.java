package io.modelguard.servlet;

import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.servlet.testapp.TomcatRuntime;

/** {@link PathBypassContract} on Tomcat 11. */
class TomcatPathBypassTest extends PathBypassContract {
  private final TomcatRuntime runtime = new TomcatRuntime();

  @Override
  ServletRuntime runtime() {
    return runtime;
  }
}
