package io.modelguard.servlet;

import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.servlet.testapp.ServletRuntime;

/** {@link PathBypassContract} on Jetty 12 (ee10). */
class JettyPathBypassTest extends PathBypassContract {
  private final JettyRuntime runtime = new JettyRuntime();

  @Override
  ServletRuntime runtime() {
    return runtime;
  }
}
