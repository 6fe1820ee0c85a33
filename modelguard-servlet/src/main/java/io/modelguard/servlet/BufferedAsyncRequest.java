package io.modelguard.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/**
 * The request a servlet with output policies receives: {@code startAsync()} without arguments
 * starts asynchronous processing on this request and the {@link BufferingResponse}, not on the
 * container's own response, so output written from the asynchronous context is held back like any
 * other and never reaches the client past the output policies.
 */
final class BufferedAsyncRequest extends HttpServletRequestWrapper {
  private final BufferingResponse response;

  BufferedAsyncRequest(HttpServletRequest request, BufferingResponse response) {
    super(request);
    this.response = response;
  }

  @Override
  public AsyncContext startAsync() {
    return super.startAsync(this, response);
  }
}
