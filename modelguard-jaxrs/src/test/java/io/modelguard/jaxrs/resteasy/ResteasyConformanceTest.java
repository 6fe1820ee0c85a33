package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.TestApplication;
import io.modelguard.test.AdapterConformanceSuite;
import io.modelguard.test.ConformanceFixture;

/** The shared adapter contract on RESTEasy. */
class ResteasyConformanceTest extends AdapterConformanceSuite {
  @Override
  protected Deployment deploy(ConformanceFixture fixture) throws Exception {
    return new ResteasyRuntime().deploy(TestApplication.conformance(fixture.guard()));
  }
}
