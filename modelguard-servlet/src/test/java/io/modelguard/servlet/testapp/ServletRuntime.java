package io.modelguard.servlet.testapp;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.Filter;
import java.util.List;
import java.util.Map;

/** A real servlet container, started on a free loopback port. */
public interface ServletRuntime {

  /**
   * Starts one context at {@code contextPath} ({@code ""} for the root) with {@code servlets} and
   * {@code filter} registered programmatically as {@value #FILTER_NAME} on {@code /*}, as {@link
   * io.modelguard.servlet.ModelGuardFilter} documents: for every dispatcher type, supporting
   * asynchronous processing. The deployment's base URI includes the context path.
   */
  default Deployment start(String contextPath, Filter filter, List<ServletDef> servlets) throws Exception {
    return start(contextPath, filter, servlets, Map.of());
  }

  /**
   * As {@link #start(String, Filter, List)}, with error pages: the container dispatches a response
   * whose status is a key of {@code errorPages} to the path it maps to (an {@code ERROR} dispatch).
   */
  default Deployment start(String contextPath, Filter filter, List<ServletDef> servlets, Map<Integer, String> errorPages)
      throws Exception {
    return start(contextPath, List.of(filter), servlets, errorPages);
  }

  /**
   * As {@link #start(String, Filter, List, Map)}, with several filters, each mapped alike and
   * chained in this order (the first named {@value #FILTER_NAME}, the others {@value #FILTER_NAME}
   * and their position).
   */
  default Deployment start(String contextPath, List<Filter> filters, List<ServletDef> servlets,
      Map<Integer, String> errorPages) throws Exception {
    return start(contextPath, filters, servlets, errorPages, false);
  }

  /**
   * As {@link #start(String, Filter, List)}, serving cleartext HTTP/2 too (h2c, upgraded from
   * HTTP/1.1), where a request body may come with no {@code Content-Length} and, HTTP/2 having no
   * chunking, no {@code Transfer-Encoding} either. A stream's window is {@link #HTTP2_STREAM_WINDOW}.
   */
  default Deployment startWithHttp2(String contextPath, Filter filter, List<ServletDef> servlets) throws Exception {
    return start(contextPath, List.of(filter), servlets, Map.of(), true);
  }

  /** Starts the deployment as the overloads above describe, with an h2c connector if {@code http2}. */
  Deployment start(String contextPath, List<Filter> filters, List<ServletDef> servlets,
      Map<Integer, String> errorPages, boolean http2) throws Exception;

  /** The bytes of a request body an HTTP/2 client may send before the server reads any (its stream window). */
  int HTTP2_STREAM_WINDOW = 64 * 1024;

  /** The name the {@code index}-th filter is registered under. */
  static String filterName(int index) {
    return index == 0 ? FILTER_NAME : FILTER_NAME + index;
  }

  /** The name the filter is registered under. */
  String FILTER_NAME = "modelguard";
}
