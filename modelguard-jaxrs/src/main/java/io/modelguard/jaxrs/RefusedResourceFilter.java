package io.modelguard.jaxrs;

import io.modelguard.problem.ProblemRenderer;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;

/**
 * Answers every request of one resource method with the {@code internal.error} problem. {@code
 * ModelGuardFeature} binds it where it would refuse deployment but the runtime configures the
 * method only when a request first reaches it, after deployment: an exception thrown then would
 * fail the request with the runtime's own error page (RESTEasy's shows the message, with class
 * names). The feature has logged the cause.
 */
final class RefusedResourceFilter implements ContainerRequestFilter {
  private final String resource;

  /** @param resource names the refused resource method, for {@link #toString()} */
  RefusedResourceFilter(String resource) {
    this.resource = resource;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    request.abortWith(GuardRequestFilter.problem(ProblemRenderer.internalError()));
  }

  @Override
  public String toString() {
    return "ModelGuard refusal of " + resource;
  }
}
