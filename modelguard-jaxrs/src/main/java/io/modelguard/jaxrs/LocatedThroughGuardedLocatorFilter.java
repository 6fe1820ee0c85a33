package io.modelguard.jaxrs;

import io.modelguard.problem.ProblemRenderer;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails closed on one unguarded resource method when a request reaches it through a sub-resource
 * locator that {@code @ModelSecured} is on or over: the annotation reads as guarding the request,
 * but no runtime binds a filter to a locator. Deployment refuses such a locator when the runtime
 * configures a resource method of its class; this catches the classes deployment cannot, those
 * without any resource method of their own. Answers the {@code internal.error} problem and logs
 * the cause once.
 *
 * <p>A request that matched one resource (no locator ran) costs one look at the list of matched
 * resources; the classes of located-through resources are checked once each ({@code
 * guardedLocators} caches the answer).
 */
final class LocatedThroughGuardedLocatorFilter implements ContainerRequestFilter {
  private static final Logger log = LoggerFactory.getLogger(LocatedThroughGuardedLocatorFilter.class);

  private final Method method;
  private final ClassValue<Optional<Method>> guardedLocators;
  private final AtomicBoolean logged = new AtomicBoolean();

  /**
   * @param method the unguarded resource method this filter is bound to
   * @param guardedLocators for a class, one of its sub-resource locators that {@code @ModelSecured}
   *     is on or over, if any
   */
  LocatedThroughGuardedLocatorFilter(Method method, ClassValue<Optional<Method>> guardedLocators) {
    this.method = method;
    this.guardedLocators = guardedLocators;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    List<Object> matched = request.getUriInfo().getMatchedResources();
    // The first is the resource of this method, whose locators were checked at deployment; any
    // other located it, the nearest first.
    for (int i = 1; i < matched.size(); i++) {
      Optional<Method> locator = guardedLocators.get(matched.get(i).getClass());
      if (locator.isPresent()) {
        if (logged.compareAndSet(false, true)) {
          log.error("ModelGuard: refused (500) a request to unguarded {}.{}(), located through {}.{}(), which "
              + "@ModelSecured is on or over: the annotation does not reach through a sub-resource locator. Put "
              + "@ModelSecured on the located resource's methods or class instead. Logged once for this method.",
              method.getDeclaringClass().getName(), method.getName(), matched.get(i).getClass().getName(),
              locator.get().getName());
        }
        request.abortWith(GuardRequestFilter.problem(ProblemRenderer.internalError()));
        return;
      }
    }
  }

  @Override
  public String toString() {
    return "ModelGuard check of the locators reaching unguarded " + method;
  }
}
