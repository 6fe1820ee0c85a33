package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.TestApplication;
import io.modelguard.test.AdapterConformanceSuite;
import io.modelguard.test.ConformanceFixture;

/** The shared adapter contract on Jersey. */
class JerseyConformanceTest extends AdapterConformanceSuite {
  @Override
  protected Deployment deploy(ConformanceFixture fixture) throws Exception {
    return new JerseyRuntime().deploy(TestApplication.conformance(fixture.guard()));
  }
}
