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
 * Fails closed on one resource method deployment found no {@code @ModelSecured} for, where a
 * request shows that an annotation the runtime's configuration did not reveal applies after all,
 * answering the {@code internal.error} problem and logging the cause once:
 *
 * <ul>
 *   <li>the request reached it through a sub-resource locator that {@code @ModelSecured} is on or
 *       over: the annotation reads as guarding the request, but no runtime binds a filter to a
 *       locator. Deployment refuses such a locator when the runtime configures a resource method
 *       of its class; this catches the classes deployment cannot, those without any resource
 *       method of their own;
 *   <li>the resource serving the request is of another class than the one the runtime configured
 *       the method for, and that class or its implementation of the method carries {@code
 *       @ModelSecured}: RESTEasy configures a resource whose {@code @Path} is on an interface or
 *       a superclass for that supertype and its abstract method, never seeing the annotations of
 *       the class that implements them.
 * </ul>
 *
 * <p>A request that matched one resource of the configured class costs one look at the list of
 * matched resources and one class comparison; other classes are checked once each (cached).
 */
final class UnguardedMethodFilter implements ContainerRequestFilter {
  private static final Logger log = LoggerFactory.getLogger(UnguardedMethodFilter.class);

  private final Method method;
  private final ClassValue<Optional<Method>> guardedLocators;
  private final AtomicBoolean logged = new AtomicBoolean();
  private final ServingClassCheck servingClass;

  /**
   * @param method the unguarded resource method this filter is bound to
   * @param configuredClass the resource class the runtime configured it for
   * @param guardedLocators for a class, one of its sub-resource locators that {@code @ModelSecured}
   *     is on or over, if any
   */
  UnguardedMethodFilter(Method method, Class<?> configuredClass, ClassValue<Optional<Method>> guardedLocators) {
    this.method = method;
    this.guardedLocators = guardedLocators;
    this.servingClass = new ServingClassCheck(method, configuredClass, Optional.empty());
  }

  @Override
  public void filter(ContainerRequestContext request) {
    if (servingClass.refused(request)) {
      return;
    }
    List<Object> matched = request.getUriInfo().getMatchedResources();
    // The first is the resource of this method, whose locators were checked at deployment; any
    // other located it, the nearest first.
    for (int i = 1; i < matched.size(); i++) {
      Optional<Method> locator;
      try {
        locator = guardedLocators.get(matched.get(i).getClass());
      } catch (RuntimeException e) {
        // An invalid @ModelSecured on or over a locator: it meant to guard, so refuse.
        refuse(request, "ModelGuard: refused (500) a request to unguarded {}.{}(), located through {}, whose "
            + "@ModelSecured cannot be read ({}). Logged once for this method.", method.getDeclaringClass().getName(),
            method.getName(), matched.get(i).getClass().getName(), e.getMessage());
        return;
      }
      if (locator.isPresent()) {
        refuse(request, "ModelGuard: refused (500) a request to unguarded {}.{}(), located through {}.{}(), which "
            + "@ModelSecured is on or over: the annotation does not reach through a sub-resource locator. Put "
            + "@ModelSecured on the located resource's methods or class instead. Logged once for this method.",
            method.getDeclaringClass().getName(), method.getName(), matched.get(i).getClass().getName(),
            locator.get().getName());
        return;
      }
    }
  }

  private void refuse(ContainerRequestContext request, String message, Object... arguments) {
    if (logged.compareAndSet(false, true)) {
      log.error(message, arguments);
    }
    request.abortWith(GuardRequestFilter.problem(ProblemRenderer.internalError()));
  }

  @Override
  public String toString() {
    return "ModelGuard check of the locators reaching unguarded " + method;
  }
}
