package io.modelguard.servlet.testapp;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.Filter;
import java.util.List;

/** A real servlet container, started on a free loopback port. */
public interface ServletRuntime {

  /**
   * Starts one context at {@code contextPath} ({@code ""} for the root) with {@code servlets} and
   * {@code filter} registered programmatically as {@value #FILTER_NAME} on {@code /*} for REQUEST
   * dispatches. The deployment's base URI includes the context path.
   */
  Deployment start(String contextPath, Filter filter, List<ServletDef> servlets) throws Exception;

  /** The name the filter is registered under. */
  String FILTER_NAME = "modelguard";
}
