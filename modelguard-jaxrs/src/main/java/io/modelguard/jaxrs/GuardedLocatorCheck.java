package io.modelguard.jaxrs;

import io.modelguard.problem.ProblemRenderer;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a request to one resource method that reached it through a sub-resource locator which
 * {@code @ModelSecured} is on or over (or whose annotation cannot be read): no runtime binds a
 * filter to a locator, so that annotation would be skipped, whatever the located method carries
 * itself (nothing, or a more lenient annotation). Deployment refuses such a locator when the
 * runtime configures a resource method of its class; this catches the classes deployment cannot,
 * those without any resource method of their own. Each resource method's filter, guarded or not,
 * holds one. A request no locator took part in costs one look at the size of the list of matched
 * resources; classes are looked at once each (cached).
 */
final class GuardedLocatorCheck {
  private static final Logger log = LoggerFactory.getLogger(GuardedLocatorCheck.class);

  private final Method method;
  private final ClassValue<Optional<Method>> guardedLocators;
  private final AtomicBoolean logged = new AtomicBoolean();

  /**
   * @param method the resource method the filter holding this check is bound to
   * @param guardedLocators for a class, one of its sub-resource locators that {@code @ModelSecured}
   *     is on or over, if any
   */
  GuardedLocatorCheck(Method method, ClassValue<Optional<Method>> guardedLocators) {
    this.method = method;
    this.guardedLocators = guardedLocators;
  }

  /**
   * Refuses {@code request} (the {@code internal.error} problem, the cause logged at ERROR once for
   * this method) if one of the resources that located its resource has a guarded locator.
   *
   * @return whether it refused
   */
  boolean refused(ContainerRequestContext request) {
    List<Object> matched = request.getUriInfo().getMatchedResources();
    // The first is the resource of this method, whose locators were checked at deployment; any
    // other located it, the nearest first.
    for (int i = 1; i < matched.size(); i++) {
      Optional<Method> locator;
      try {
        locator = guardedLocators.get(matched.get(i).getClass());
      } catch (RuntimeException e) {
        // An invalid @ModelSecured on or over a locator: it meant to guard, so refuse.
        refuse(request, "ModelGuard: refused (500) a request to {}.{}(), located through {}, whose "
            + "@ModelSecured cannot be read ({}). Logged once for this method.", method.getDeclaringClass().getName(),
            method.getName(), matched.get(i).getClass().getName(), e.getMessage());
        return true;
      }
      if (locator.isPresent()) {
        refuse(request, "ModelGuard: refused (500) a request to {}.{}(), located through {}.{}(), which "
            + "@ModelSecured is on or over: the annotation does not reach through a sub-resource locator. Put "
            + "@ModelSecured on the located resource's methods or class instead, and not on or over the locator. "
            + "Logged once for this method.",
            method.getDeclaringClass().getName(), method.getName(), matched.get(i).getClass().getName(),
            locator.get().getName());
        return true;
      }
    }
    return false;
  }

  private void refuse(ContainerRequestContext request, String message, Object... arguments) {
    if (logged.compareAndSet(false, true)) {
      log.error(message, arguments);
    }
    request.abortWith(GuardRequestFilter.problem(ProblemRenderer.internalError()));
  }
}
