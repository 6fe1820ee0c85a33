package io.modelguard.servlet;

import io.modelguard.internal.RepresentationHeaders;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The request a servlet with output policies receives: {@code startAsync()} without arguments
 * starts asynchronous processing on this request and the {@link BufferingResponse}, not on the
 * container's own response, so output written from the asynchronous context is held back like any
 * other and never reaches the client past the output policies ({@link GuardHeadersRequest} binds
 * it so). It also hides the conditional and range request headers ({@link
 * RepresentationHeaders#CONDITIONAL}): answered against the model's own output, a 304 or a 206
 * would confirm or reveal what the policies rewrite.
 */
final class BufferedAsyncRequest extends GuardHeadersRequest {
  BufferedAsyncRequest(HttpServletRequest request, BufferingResponse response) {
    super(request, response);
  }

  @Override
  public String getHeader(String name) {
    return RepresentationHeaders.isConditional(name) ? null : super.getHeader(name);
  }

  @Override
  public Enumeration<String> getHeaders(String name) {
    return RepresentationHeaders.isConditional(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
  }

  @Override
  public long getDateHeader(String name) {
    return RepresentationHeaders.isConditional(name) ? -1 : super.getDateHeader(name);
  }

  @Override
  public int getIntHeader(String name) {
    return RepresentationHeaders.isConditional(name) ? -1 : super.getIntHeader(name);
  }

  @Override
  public Enumeration<String> getHeaderNames() {
    List<String> names = Collections.list(super.getHeaderNames());
    names.removeIf(RepresentationHeaders::isConditional);
    return Collections.enumeration(names);
  }
}
