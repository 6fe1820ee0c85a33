package io.modelguard.servlet;

import io.modelguard.servlet.testapp.ConformanceApp;
import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.test.AdapterConformanceSuite;
import io.modelguard.test.ConformanceFixture;

/** The adapter conformance suite on Jetty 12 (ee10). */
class JettyConformanceTest extends AdapterConformanceSuite {
  @Override
  protected Deployment deploy(ConformanceFixture fixture) throws Exception {
    return ConformanceApp.deploy(new JettyRuntime(), fixture);
  }
}
