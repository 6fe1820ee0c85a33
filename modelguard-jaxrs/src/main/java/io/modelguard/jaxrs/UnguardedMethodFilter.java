package io.modelguard.jaxrs;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.lang.reflect.Method;
import java.util.Optional;

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
  private final Method method;
  private final ServingClassCheck servingClass;
  private final GuardedLocatorCheck locators;

  /**
   * @param method the unguarded resource method this filter is bound to
   * @param configuredClass the resource class the runtime configured it for
   * @param guardedLocators for a class, one of its sub-resource locators that {@code @ModelSecured}
   *     is on or over, if any
   */
  UnguardedMethodFilter(Method method, Class<?> configuredClass, ClassValue<Optional<Method>> guardedLocators) {
    this.method = method;
    this.servingClass = new ServingClassCheck(method, configuredClass, Optional.empty(), false);
    this.locators = new GuardedLocatorCheck(method, guardedLocators);
  }

  @Override
  public void filter(ContainerRequestContext request) {
    if (!servingClass.refused(request)) {
      locators.refused(request);
    }
  }

  @Override
  public String toString() {
    return "ModelGuard check of the locators reaching unguarded " + method;
  }
}
