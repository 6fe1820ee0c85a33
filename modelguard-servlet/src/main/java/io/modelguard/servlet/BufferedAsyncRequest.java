package io.modelguard.servlet;

import io.modelguard.internal.RepresentationHeaders;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.Part;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The request a servlet with output policies receives: {@code startAsync()} without arguments
 * starts asynchronous processing on this request and the {@link BufferingResponse}, not on the
 * container's own response, so output written from the asynchronous context is held back like any
 * other and never reaches the client past the output policies ({@link GuardHeadersRequest} binds
 * it so). It also hides the conditional and range request headers ({@link
 * RepresentationHeaders#CONDITIONAL}): answered against the model's own output, a 304 or a 206
 * would confirm or reveal what the policies rewrite. And it tells the filter when the servlet takes
 * the body (its stream, reader, parts, or the parameters of a form, which the container reads from
 * it), after which the output policies read no more of the body than the request policies did.
 */
final class BufferedAsyncRequest extends GuardHeadersRequest {
  private final Runnable bodyTaken;

  BufferedAsyncRequest(HttpServletRequest request, BufferingResponse response, Runnable bodyTaken) {
    super(request, response);
    this.bodyTaken = bodyTaken;
  }

  @Override
  public ServletInputStream getInputStream() throws IOException {
    bodyTaken.run();
    return super.getInputStream();
  }

  @Override
  public BufferedReader getReader() throws IOException {
    bodyTaken.run();
    return super.getReader();
  }

  @Override
  public Collection<Part> getParts() throws IOException, ServletException {
    bodyTaken.run();
    return super.getParts();
  }

  @Override
  public Part getPart(String name) throws IOException, ServletException {
    bodyTaken.run();
    return super.getPart(name);
  }

  @Override
  public String getParameter(String name) {
    formParameters();
    return super.getParameter(name);
  }

  @Override
  public Map<String, String[]> getParameterMap() {
    formParameters();
    return super.getParameterMap();
  }

  @Override
  public Enumeration<String> getParameterNames() {
    formParameters();
    return super.getParameterNames();
  }

  @Override
  public String[] getParameterValues(String name) {
    formParameters();
    return super.getParameterValues(name);
  }

  /** The container reads a form's parameters from the body (a multipart one's too, where configured). */
  private void formParameters() {
    String type = getContentType();
    if (type != null) {
      String media = type.strip().toLowerCase(Locale.ROOT);
      if (media.startsWith("application/x-www-form-urlencoded") || media.startsWith("multipart/")) {
        bodyTaken.run();
      }
    }
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
