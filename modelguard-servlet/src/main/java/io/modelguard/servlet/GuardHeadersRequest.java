package io.modelguard.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/**
 * The request that goes down the chain with a {@link GuardHeadersResponse}: {@code startAsync()}
 * without arguments starts asynchronous processing on this request and that response, not on the
 * container's own, so a servlet that answers through {@code AsyncContext.getResponse()} (an
 * asynchronous error page after a {@code reset()}, say) keeps the guard's headers as it does
 * through the response it was handed. Everything else reaches the container's request unchanged.
 * The filter passes it only where no {@link ReplayingRequest} (a policy read the body), which binds
 * its asynchronous context alike, does so already. {@link BufferedAsyncRequest}, the request of a
 * chain with output policies, builds on it.
 */
class GuardHeadersRequest extends HttpServletRequestWrapper {
  private final GuardHeadersResponse response;

  GuardHeadersRequest(HttpServletRequest request, GuardHeadersResponse response) {
    super(request);
    this.response = response;
  }

  /** Starts asynchronous processing on this request and the response that keeps the guard's headers. */
  @Override
  public AsyncContext startAsync() {
    return super.startAsync(this, response);
  }
}
