package io.modelguard.jaxrs;

import io.modelguard.EndpointSpec;
import io.modelguard.internal.AnnotationInheritance;
import io.modelguard.problem.ProblemRenderer;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a request whose resource is of a class whose {@code @ModelSecured} for the method differs
 * from what deployment bound; each resource method's filter holds one, guarded or not. RESTEasy configures a resource whose {@code @Path} is on an
 * interface or a superclass for that supertype and its method, never showing the class that
 * implements them; the class (or its method) may carry another annotation than the supertype, or
 * one where the supertype has none, or an invalid one. Under a chain with output policies, the
 * class may also receive the servlet response that deployment refuses on a class it sees (see
 * {@link ServletResponseInjection}). Each serving class is looked at once (cached); a request
 * served by the configured class costs one look at the matched resources and one comparison.
 */
final class ServingClassCheck {
  private static final Logger log = LoggerFactory.getLogger(ServingClassCheck.class);

  private final Method method;
  private final Class<?> configuredClass;
  private final Optional<EndpointSpec> deployed;
  private final boolean outputPolicies;
  private final AtomicBoolean logged = new AtomicBoolean();
  /** Where a serving class receives the servlet response, looked for only under output policies. */
  private final ClassValue<Optional<String>> servletResponse = new ClassValue<>() {
    @Override
    protected Optional<String> computeValue(Class<?> type) {
      try {
        return ServletResponseInjection.find(method, type);
      } catch (RuntimeException | LinkageError e) {
        // A class whose members cannot be read is no reason to let its output past the policies.
        return Optional.of("a member that cannot be read (" + e + ")");
      }
    }
  };
  private final ClassValue<Boolean> differs = new ClassValue<>() {
    @Override
    protected Boolean computeValue(Class<?> type) {
      try {
        Method found = type.getMethod(method.getName(), method.getParameterTypes());
        if (!found.isBridge()) {
          return !sameGuard(EndpointSpec.forMethod(found, type), deployed);
        }
        // The runtime configured an erased supertype method (predict(T) as predict(Object)): what
        // runs is the implementation the bridge calls, one that overrides the configured method.
        boolean any = false;
        for (Method candidate : type.getMethods()) {
          if (bridgedBy(candidate, found) && AnnotationInheritance.overrideChain(candidate, type).contains(method)) {
            any = true;
            if (!sameGuard(EndpointSpec.forMethod(candidate, type), deployed)) {
              return true;
            }
          }
        }
        return !any && !sameGuard(EndpointSpec.forMethod(found, type), deployed);
      } catch (NoSuchMethodException e) {
        // Not a public method of the serving class: the configured one is what runs.
        return false;
      } catch (RuntimeException | LinkageError e) {
        // An annotation that cannot be read (an invalid @ModelSecured) is no reason to let requests through.
        return true;
      }
    }
  };

  /**
   * @param method the resource method as the runtime configured it
   * @param configuredClass the resource class the runtime configured it for
   * @param deployed what deployment bound for it, empty for nothing
   * @param outputPolicies whether the chain deployment bound has output policies
   */
  ServingClassCheck(Method method, Class<?> configuredClass, Optional<EndpointSpec> deployed, boolean outputPolicies) {
    this.method = method;
    this.configuredClass = configuredClass;
    this.deployed = deployed;
    this.outputPolicies = outputPolicies;
  }

  /**
   * Refuses {@code request} (the {@code internal.error} problem, the cause logged at ERROR once for
   * this method) if the class serving it is another than the configured one and guards the method
   * otherwise or, under output policies, receives the servlet response.
   *
   * @return whether it refused
   */
  boolean refused(ContainerRequestContext request) {
    List<Object> matched = request.getUriInfo().getMatchedResources();
    if (matched.isEmpty()) {
      return false;
    }
    Class<?> serving = matched.get(0).getClass();
    if (serving == configuredClass) {
      return false;
    }
    String refusal;
    if (differs.get(serving)) {
      refusal = refusal(serving);
    } else if (outputPolicies && servletResponse.get(serving).isPresent()) {
      refusal = servletResponseRefusal(serving, servletResponse.get(serving).get());
    } else {
      return false;
    }
    if (logged.compareAndSet(false, true)) {
      log.error("{}", refusal);
    }
    request.abortWith(GuardRequestFilter.problem(ProblemRenderer.internalError()));
    return true;
  }

  /** Whether {@code candidate} is a method the bridge {@code bridge} may call: same name, its parameters narrower. */
  private static boolean bridgedBy(Method candidate, Method bridge) {
    if (candidate.isBridge() || candidate.isSynthetic() || !candidate.getName().equals(bridge.getName())
        || candidate.getParameterCount() != bridge.getParameterCount()) {
      return false;
    }
    Class<?>[] narrow = candidate.getParameterTypes();
    Class<?>[] erased = bridge.getParameterTypes();
    for (int i = 0; i < narrow.length; i++) {
      if (!erased[i].isAssignableFrom(narrow[i])) {
        return false;
      }
    }
    return true;
  }

  /** Whether two lookups guard alike: both nothing, or the same model, chain and cost. */
  private static boolean sameGuard(Optional<EndpointSpec> a, Optional<EndpointSpec> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return a.isEmpty() && b.isEmpty();
    }
    EndpointSpec x = a.get();
    EndpointSpec y = b.get();
    return x.model().equals(y.model()) && x.modelVariable().equals(y.modelVariable())
        && Objects.equals(x.chain(), y.chain()) && x.cost() == y.cost();
  }

  /** The message logged when a request is refused for {@code serving}. */
  private String refusal(Class<?> serving) {
    return "ModelGuard: refused (500) a request to " + serving.getName() + "." + method.getName() + "(): the runtime "
        + "configured it for " + configuredClass.getName() + ", whose @ModelSecured (" + deployed.map(EndpointSpec::toString)
        .orElse("none") + ") is not what the class serving it carries (or that class's annotation is invalid); the "
        + "runtime never showed that class to ModelGuard (RESTEasy does so when @Path is on an interface or "
        + "superclass). Put @ModelSecured on the method or type that carries @Path, or @Path on the class. Logged "
        + "once for this method.";
  }

  /** The message logged when a request is refused for {@code serving}, which receives the servlet response. */
  private String servletResponseRefusal(Class<?> serving, String where) {
    return "ModelGuard: refused (500) a request to " + serving.getName() + "." + method.getName() + "(): its "
        + "@ModelSecured chain has output policies, which cannot see what it writes to the servlet response it "
        + "receives through " + where + "; the runtime configured it for " + configuredClass.getName() + " and never "
        + "showed that class to ModelGuard (RESTEasy does so when @Path is on an interface or superclass), so "
        + "deployment could not refuse it. Answer through JAX-RS without receiving the servlet response, or guard "
        + "the method with a chain without output policies. Logged once for this method.";
  }
}
