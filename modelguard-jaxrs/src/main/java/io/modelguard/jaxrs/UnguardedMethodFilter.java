package io.modelguard.jaxrs;

import io.modelguard.EndpointSpec;
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
  private final Class<?> configuredClass;
  private final ClassValue<Optional<Method>> guardedLocators;
  private final AtomicBoolean logged = new AtomicBoolean();
  /** For a resource class other than the configured one, whether @ModelSecured applies to this method there. */
  private final ClassValue<Optional<EndpointSpec>> annotatedIn = new ClassValue<>() {
    @Override
    protected Optional<EndpointSpec> computeValue(Class<?> type) {
      try {
        return EndpointSpec.forMethod(type.getMethod(method.getName(), method.getParameterTypes()), type);
      } catch (NoSuchMethodException | RuntimeException e) {
        return Optional.empty();
      }
    }
  };

  /**
   * @param method the unguarded resource method this filter is bound to
   * @param configuredClass the resource class the runtime configured it for
   * @param guardedLocators for a class, one of its sub-resource locators that {@code @ModelSecured}
   *     is on or over, if any
   */
  UnguardedMethodFilter(Method method, Class<?> configuredClass, ClassValue<Optional<Method>> guardedLocators) {
    this.method = method;
    this.configuredClass = configuredClass;
    this.guardedLocators = guardedLocators;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    List<Object> matched = request.getUriInfo().getMatchedResources();
    if (!matched.isEmpty()) {
      Class<?> serving = matched.get(0).getClass();
      if (serving != configuredClass && annotatedIn.get(serving).isPresent()) {
        refuse(request, "ModelGuard: refused (500) a request to {}.{}(): the runtime configured it for {}, which "
            + "carries no @ModelSecured, but the class serving it, {}, does, and the runtime never showed it to "
            + "ModelGuard (RESTEasy does so when @Path is on an interface or superclass). Put @ModelSecured on the "
            + "method or type that carries @Path, or @Path on the class. Logged once for this method.",
            serving.getName(), method.getName(), configuredClass.getName(), serving.getName());
        return;
      }
    }
    // The first is the resource of this method, whose locators were checked at deployment; any
    // other located it, the nearest first.
    for (int i = 1; i < matched.size(); i++) {
      Optional<Method> locator = guardedLocators.get(matched.get(i).getClass());
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
