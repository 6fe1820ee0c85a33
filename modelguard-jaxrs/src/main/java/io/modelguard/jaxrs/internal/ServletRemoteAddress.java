package io.modelguard.jaxrs.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Context;

/**
 * Internal to {@code ModelGuardFeature}, which registers this class (never an instance, so that the
 * runtime injects it) in front of its request filter when the Servlet API is present and no {@code
 * remoteAddress} function was configured. Applications do not register it themselves.
 *
 * <p>Copies the servlet container's client address into the request property {@link #PROPERTY}.
 * The only class of the adapter that names a Servlet type, so it is loaded only when the Servlet API
 * is on the class path. If no servlet request stands behind the JAX-RS request, the address stays
 * unknown.
 */
public final class ServletRemoteAddress implements ContainerRequestFilter {
  /** The request property holding the servlet client address, a {@link String}. */
  public static final String PROPERTY = "io.modelguard.jaxrs.internal.remoteAddress";

  @Context private HttpServletRequest servletRequest;

  /** Created by the JAX-RS runtime, which then injects the servlet request. */
  public ServletRemoteAddress() {}

  /** Stores {@code getRemoteAddr()} of the servlet request, if there is one, under {@link #PROPERTY}. */
  @Override
  public void filter(ContainerRequestContext request) {
    HttpServletRequest servlet = servletRequest;
    if (servlet == null) {
      return;
    }
    try {
      String address = servlet.getRemoteAddr();
      if (address != null && !address.isEmpty()) {
        request.setProperty(PROPERTY, address);
      }
    } catch (RuntimeException e) {
      // The injected proxy has no servlet request behind it: the address is simply unknown.
    }
  }
}
