package io.modelguard.jaxrs.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Context;

/**
 * Internal to {@code ModelGuardFeature}, which registers this class (never an instance, so that the
 * runtime injects it) in front of its request filter when the Servlet API is present. Applications
 * do not register it themselves.
 *
 * <p>Copies what only the servlet container knows of the request into request properties: the
 * client address ({@link #ADDRESS_PROPERTY}) and the protocol ({@link #PROTOCOL_PROPERTY}), which
 * tells whether a body that declares no length can still have bytes (it can over HTTP/2, which has
 * no chunking to declare). The only class of the adapter that names a Servlet type, so it is loaded
 * only when the Servlet API is on the class path. If no servlet request stands behind the JAX-RS
 * request, neither property is set.
 */
public final class ServletConnectionFacts implements ContainerRequestFilter {
  /** The request property holding the servlet client address, a {@link String}. */
  public static final String ADDRESS_PROPERTY = "io.modelguard.jaxrs.internal.remoteAddress";
  /** The request property holding the servlet request's protocol ({@code HTTP/1.1}, {@code HTTP/2.0}), a {@link String}. */
  public static final String PROTOCOL_PROPERTY = "io.modelguard.jaxrs.internal.protocol";

  @Context private HttpServletRequest servletRequest;

  /** Created by the JAX-RS runtime, which then injects the servlet request. */
  public ServletConnectionFacts() {}

  /**
   * Stores {@code getRemoteAddr()} and {@code getProtocol()} of the servlet request, if there is
   * one, under {@link #ADDRESS_PROPERTY} and {@link #PROTOCOL_PROPERTY}.
   */
  @Override
  public void filter(ContainerRequestContext request) {
    HttpServletRequest servlet = servletRequest;
    if (servlet == null) {
      return;
    }
    try {
      copy(servlet.getRemoteAddr(), ADDRESS_PROPERTY, request);
      copy(servlet.getProtocol(), PROTOCOL_PROPERTY, request);
    } catch (RuntimeException e) {
      // The injected proxy has no servlet request behind it: both are simply unknown.
    }
  }

  private static void copy(String value, String property, ContainerRequestContext request) {
    if (value != null && !value.isEmpty()) {
      request.setProperty(property, value);
    }
  }
}
