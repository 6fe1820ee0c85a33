package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.AnnotationReachTest;
import io.modelguard.jaxrs.JaxrsRuntime;

/** Where {@code @ModelSecured} reaches, on RESTEasy. */
class ResteasyAnnotationReachTest extends AnnotationReachTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }

  /** RESTEasy configures the interface's method and never shows the class: the filter refuses. */
  @Override
  protected boolean servesHiddenClassesGuarded() {
    return false;
  }

  /** RESTEasy answers 404: it serves no method that merely fits a bare type variable. */
  @Override
  protected boolean servesLooseMatches() {
    return false;
  }

  /** RESTEasy answers 404: it does not take a default method for a resource method. */
  @Override
  protected boolean servesDefaultMethods() {
    return false;
  }
}
