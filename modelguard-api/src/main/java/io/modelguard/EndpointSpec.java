package io.modelguard;

import io.modelguard.internal.AnnotationInheritance;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What an adapter resolves once per endpoint at deployment: the model (a fixed id or a path
 * variable), the chain and the cost. {@link #resolve(Function)} turns it into the {@link Endpoint}
 * of one request. Immutable.
 */
public final class EndpointSpec {
  private final String model;
  private final String variable;
  private final String chain;
  private final int cost;
  private final PathTemplate pathTemplate;

  private EndpointSpec(String model, String chain, int cost, String path) {
    Objects.requireNonNull(model, "model");
    if (model.startsWith("{") && model.endsWith("}") && model.length() > 2) {
      this.variable = model.substring(1, model.length() - 1);
      this.model = null;
    } else if (Endpoint.isValidModelId(model)) {
      this.variable = null;
      this.model = model;
    } else {
      throw new IllegalArgumentException(
          "@ModelSecured.model must be a model id or a {variable}, was '" + model + "'");
    }
    if (chain == null || chain.isBlank()) {
      throw new IllegalArgumentException("@ModelSecured.chain must not be blank");
    }
    if (cost < 1) {
      throw new IllegalArgumentException("@ModelSecured.cost must be at least 1, was " + cost);
    }
    this.chain = chain;
    this.cost = cost;
    this.pathTemplate = path == null || path.isEmpty() ? null : PathTemplate.compile(path);
  }

  /**
   * A spec for {@code model} (an id or {@code "{variable}"}), {@code chain} and {@code cost}.
   *
   * @param model a model id, or {@code "{variable}"} to take it from a path variable
   * @param chain the name of the policy chain
   * @param cost the cost units of one call, at least 1
   * @return a new spec without a path template
   * @throws IllegalArgumentException naming the field that is invalid
   */
  public static EndpointSpec of(String model, String chain, int cost) {
    return new EndpointSpec(model, chain, cost, null);
  }

  /**
   * {@return the spec an annotation describes, including its servlet {@code path} template}
   *
   * @param annotation the annotation as found on a method or class; not null
   */
  public static EndpointSpec from(ModelSecured annotation) {
    return new EndpointSpec(annotation.model(), annotation.chain(), annotation.cost(), annotation.path());
  }

  /**
   * Finds {@code @ModelSecured} for a method of {@code resourceClass}: on the method or, failing
   * that, on a method it overrides or implements (superclasses first, then interfaces, nearest
   * first); failing those, on the class ({@link #forClass}). A method's annotation, its own or
   * inherited, overrides the class's.
   *
   * @param method the resource method, as declared on any class
   * @param resourceClass the class the method is invoked on, possibly a subclass of its declaring
   *     class
   * @return the spec, or empty if neither the method chain nor the class carries the annotation
   * @throws IllegalArgumentException if, on the way, a method or class carries an annotation that
   *     is itself annotated with {@code @ModelSecured} (a composed annotation): it is read only where
   *     it is written, so the element would silently go unguarded
   */
  public static Optional<EndpointSpec> forMethod(Method method, Class<?> resourceClass) {
    for (Method m : AnnotationInheritance.overrideChain(method, resourceClass)) {
      refuseComposed(m);
      ModelSecured annotation = m.getAnnotation(ModelSecured.class);
      if (annotation != null) {
        return Optional.of(from(annotation));
      }
    }
    return forClass(resourceClass);
  }

  /**
   * Finds {@code @ModelSecured} on a class, its superclasses or, failing those, its interfaces,
   * nearest first.
   *
   * @param type the resource class whose hierarchy to search; not null
   * @return the spec of the nearest annotation, or empty if no class or interface carries one
   * @throws IllegalArgumentException if, on the way, a class carries a composed annotation (one
   *     annotated with {@code @ModelSecured}), as in {@link #forMethod}
   */
  public static Optional<EndpointSpec> forClass(Class<?> type) {
    for (Class<?> c : AnnotationInheritance.typeHierarchy(type)) {
      refuseComposed(c);
      ModelSecured annotation = c.getAnnotation(ModelSecured.class);
      if (annotation != null) {
        return Optional.of(from(annotation));
      }
    }
    return Optional.empty();
  }

  /**
   * Refuses an annotation on {@code element} whose type carries {@code @ModelSecured}. Such a
   * composed annotation ({@code @ModelSecured(model = "digits") @interface DigitsSecured}) looks
   * like a guard and is none: ModelGuard reads {@code @ModelSecured} only where it is written.
   */
  private static void refuseComposed(AnnotatedElement element) {
    for (Annotation a : element.getDeclaredAnnotations()) {
      if (a.annotationType().isAnnotationPresent(ModelSecured.class)) {
        String where = element instanceof Method
            ? ((Method) element).getDeclaringClass().getName() + "." + ((Method) element).getName() + "()"
            : ((Class<?>) element).getName();
        throw new IllegalArgumentException("@" + a.annotationType().getName() + " on " + where
            + " carries @ModelSecured, which is read only where it is written, not through another "
            + "annotation: put @ModelSecured on " + where + " itself");
      }
    }
  }

  /** {@return the fixed model id, if the model is not a path variable} */
  public Optional<String> model() {
    return Optional.ofNullable(model);
  }

  /** {@return the path variable naming the model, if any} */
  public Optional<String> modelVariable() {
    return Optional.ofNullable(variable);
  }

  /** {@return the chain name} */
  public String chain() {
    return chain;
  }

  /** {@return the cost of one call} */
  public int cost() {
    return cost;
  }

  /** {@return the servlet path template, if the annotation gave one} */
  public Optional<PathTemplate> pathTemplate() {
    return Optional.ofNullable(pathTemplate);
  }

  /**
   * {@return a copy with another path template (for path rules configured in code)}
   *
   * @param path the new path template relative to the context path, or null for none
   */
  public EndpointSpec withPath(String path) {
    return new EndpointSpec(variable == null ? model : "{" + variable + "}", chain, cost, path);
  }

  /**
   * The endpoint of one request; {@code pathVariables} maps a variable name to its value in the
   * request path (or null). An unresolvable or invalid model id yields an endpoint without a model.
   * Prefer {@link #resolve(Function, Predicate)}, which tells such a request from one for an
   * endpoint without a model by design.
   *
   * @param pathVariables maps a variable name to its value in the request path, or to null if
   *     absent
   * @return the endpoint of the request, without a model if none could be resolved
   */
  public Endpoint resolve(Function<String, String> pathVariables) {
    return resolve(pathVariables, name -> false);
  }

  /**
   * The endpoint of one request; {@code pathVariables} maps a variable name to its value in the
   * request path (or null), and {@code declared} says whether the endpoint's path template (or
   * JAX-RS {@code @Path}) declares a variable. A declared model variable without a valid model id
   * in the path yields {@link Endpoint#unresolved}, which the engine denies; an undeclared one an
   * endpoint without a model (such as a catalog on {@code /v1/models} under the default {@code
   * model = "{model}"}).
   *
   * @param pathVariables maps a variable name to its value in the request path, or to null if
   *     absent
   * @param declared tests whether the endpoint's path template declares a variable name
   * @return the endpoint of the request: with a model, without one, or unresolved
   */
  public Endpoint resolve(Function<String, String> pathVariables, Predicate<String> declared) {
    if (model != null) {
      return Endpoint.of(model, chain, cost);
    }
    Endpoint endpoint = Endpoint.of(pathVariables.apply(variable), chain, cost);
    return endpoint.model().isEmpty() && declared.test(variable) ? Endpoint.unresolved(chain, cost) : endpoint;
  }

  @Override
  public String toString() {
    return "EndpointSpec[model=" + (model != null ? model : "{" + variable + "}")
        + ", chain=" + chain + ", cost=" + cost + "]";
  }
}
