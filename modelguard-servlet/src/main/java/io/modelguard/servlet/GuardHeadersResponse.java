package io.modelguard.servlet;

import io.modelguard.internal.HeaderNames;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.List;
import java.util.Map;

/**
 * The response an allowed request whose decision has headers ({@code RateLimit}, say) continues
 * with when the chain has no output policies: it streams as the container's own does, and only
 * keeps the guard's headers as the filter set them. A header of the same name the servlet sets or
 * adds (in any letter case, by any of the {@code set}/{@code add} methods) is ignored, so the
 * guard's value wins, as in the JAX-RS adapter, whose response filter puts the decision's headers
 * over the resource's: a servlet cannot tell the client it has more requests left than the quota
 * counted. The name is compared as a recipient may read it on the wire ({@link HeaderNames}): up to
 * a colon, without surrounding whitespace, so {@code "RateLimit "} is ignored too; and so is any
 * name that starts with whitespace, which the containers write as a line continuing the one before
 * it (a guard header's, say). Other headers go to the container's response as usual, after a
 * comparison with the few names the decision has. After the servlet's {@code reset()}, which would otherwise clear them
 * with its own (before an error page, say), the guard's headers are set again. A decision without
 * headers needs no wrapper. The request passed with it ({@link GuardHeadersRequest}, or a {@link
 * ReplayingRequest} if a policy read the body) binds an asynchronous context the servlet starts
 * with {@code startAsync()} to this response, so the headers are kept there too; only a servlet
 * that unwraps it ({@code getResponse()}) reaches the container's response past it. {@link
 * BufferingResponse}, the response of a chain with output policies, builds on it, so both
 * keep them by one mechanism.
 */
class GuardHeadersResponse extends HttpServletResponseWrapper {
  private final Map<String, String> guardHeaders;
  /** The decision's header names, compared on every header the servlet sets: an array, no allocation. */
  private final List<String> guardNames;

  GuardHeadersResponse(HttpServletResponse response, Map<String, String> guardHeaders) {
    super(response);
    this.guardHeaders = guardHeaders;
    this.guardNames = List.copyOf(guardHeaders.keySet());
  }

  /** Sets the header, unless the guard set one of that name, whose value stays. */
  @Override
  public void setHeader(String name, String value) {
    if (!changesAGuardHeader(name)) {
      super.setHeader(name, value);
    }
  }

  /** Adds a value to the header, unless the guard set one of that name, whose value stays alone. */
  @Override
  public void addHeader(String name, String value) {
    if (!changesAGuardHeader(name)) {
      super.addHeader(name, value);
    }
  }

  /** As {@link #setHeader}. */
  @Override
  public void setIntHeader(String name, int value) {
    if (!changesAGuardHeader(name)) {
      super.setIntHeader(name, value);
    }
  }

  /** As {@link #addHeader}. */
  @Override
  public void addIntHeader(String name, int value) {
    if (!changesAGuardHeader(name)) {
      super.addIntHeader(name, value);
    }
  }

  /** As {@link #setHeader}. */
  @Override
  public void setDateHeader(String name, long date) {
    if (!changesAGuardHeader(name)) {
      super.setDateHeader(name, date);
    }
  }

  /** As {@link #addHeader}. */
  @Override
  public void addDateHeader(String name, long date) {
    if (!changesAGuardHeader(name)) {
      super.addDateHeader(name, date);
    }
  }

  /** Clears status, headers and body, as the container does, then sets the guard's headers again. */
  @Override
  public void reset() {
    super.reset();
    restoreGuardHeaders();
  }

  /** Sets the guard's headers on the wrapped response again, as after a reset of it. */
  final void restoreGuardHeaders() {
    guardHeaders.forEach(super::setHeader);
  }

  /**
   * Whether a header named {@code name} would, on the wire, be one of the guard's (names are
   * case-insensitive, and read as {@link HeaderNames#reads} says) or continue the line of the header
   * written before it, which may be the guard's.
   */
  private boolean changesAGuardHeader(String name) {
    return HeaderNames.changesAnyOf(name, guardNames);
  }
}
