package io.modelguard;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a model endpoint as guarded: a JAX-RS resource class or method, or a servlet class. The
 * annotation only <em>names</em> what to apply; the policies themselves live in the application's
 * {@link ModelGuard}. An annotation on a method overrides one on its class.
 *
 * <p>Unlike Java's own annotation lookup, and like JAX-RS's inheritance of {@code @Path} and
 * {@code @POST}, it is inherited: a method without it takes the annotation of the nearest method
 * it overrides or implements (the same name and parameter types; superclasses first, then
 * interfaces), and a class without it takes that of its nearest superclass or, failing those,
 * interface. A method's annotation, its own or inherited, still overrides its class's. So a
 * resource that implements an annotated interface, or overrides an annotated method of an
 * abstract base, is guarded as the annotation reads; the servlet adapter resolves a servlet
 * class's annotation the same way.
 *
 * <p>It is meta-annotated {@code @NameBinding} so JAX-RS binds ModelGuard's filters to it. That
 * meta-annotation needs the Jakarta REST API only at compile time: in a servlet-only application
 * the JVM ignores it.
 *
 * <pre>{@code
 * @Path("/v1/models/{model}/predict")
 * @ModelSecured(model = "{model}", chain = "default", cost = 1)
 * public class PredictResource { ... }
 * }</pre>
 */
@NameBinding
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface ModelSecured {

  /**
   * The model id, or a path variable in braces (such as {@code "{model}"}) whose value in the
   * request path is the model id. A request whose path the variable is declared in but which
   * names no valid model id is denied ({@code authz.model_forbidden}, see {@link
   * Endpoint#isUnresolved()}); where no template declares the variable (a catalog on {@code
   * /v1/models}), the endpoint has no model. Default: {@code "{model}"}.
   *
   * @return the model id, or {@code "{variable}"} naming the path variable that holds it
   */
  String model() default "{model}";

  /** {@return the name of the policy chain to apply, as registered in {@link ModelGuard}. Default: {@code "default"}} */
  String chain() default ModelGuard.DEFAULT_CHAIN;

  /**
   * Cost units one call consumes from quotas. Must be at least 1. Default: 1.
   *
   * @return the cost of one call, at least 1
   */
  int cost() default 1;

  /**
   * For servlets only: the path template (relative to the context path) that binds the variables
   * used in {@link #model()}, for example {@code "/v1/models/{model}/predict"}; a template with an
   * empty segment (a trailing {@code /} or {@code //}) is invalid, see {@link
   * PathTemplate#compile}, and fails deployment. JAX-RS takes path variables from {@code @Path} and
   * ignores this. Default: none.
   *
   * @return the servlet path template, or empty for none
   */
  String path() default "";
}
