package io.modelguard.servlet;

import io.modelguard.servlet.testapp.ConformanceApp;
import io.modelguard.servlet.testapp.TomcatRuntime;
import io.modelguard.test.AdapterConformanceSuite;
import io.modelguard.test.ConformanceFixture;

/** The adapter conformance suite on Tomcat 11. */
class TomcatConformanceTest extends AdapterConformanceSuite {
  @Override
  protected Deployment deploy(ConformanceFixture fixture) throws Exception {
    return ConformanceApp.deploy(new TomcatRuntime(), fixture);
  }
}
