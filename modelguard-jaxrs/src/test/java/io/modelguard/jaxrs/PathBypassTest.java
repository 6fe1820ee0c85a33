package io.modelguard.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ModelSecured;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.PathBypassProbe;
import io.modelguard.test.PathBypassProbe.Attack;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PathBypassProbe} on a real runtime: request targets the runtime reads otherwise than
 * written, other methods and override headers, and the JAX-RS ways to a resource method: a
 * sub-resource locator, regular-expression templates, content negotiation between two methods of
 * a guarded class, {@code HEAD} on a {@code GET} method, and an application's pre-matching filter
 * that rewrites the request URI and method.
 */
public abstract class PathBypassTest {
  private ConformanceFixture fixture;
  private Deployment deployment;

  /** The runtime under test. */
  protected abstract JaxrsRuntime runtime();

  /** Locates {@link LocatedPredict} for the model segment. */
  @Path("/loc")
  public static class Locator {
    /** The located resource; its method carries the annotation. */
    @Path("{model}")
    public LocatedPredict locate() {
      return new LocatedPredict();
    }
  }

  /** Reached only through {@link Locator}. */
  public static class LocatedPredict {
    /** The prediction for the locator's model. */
    @POST
    @Path("predict")
    @ModelSecured(model = "{model}")
    @Produces(MediaType.APPLICATION_JSON)
    public String predict(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /** Regular-expression templates: a strict one, and a greedy one whose model may span segments. */
  @Path("/rx")
  @ModelSecured(model = "{model}")
  public static class RegexPredict {
    /** A model of lower-case letters only. */
    @POST
    @Path("{model: [a-z]+}/predict")
    @Produces(MediaType.APPLICATION_JSON)
    public String strict(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }

    /** Anything after {@code greedy/}, slashes included. */
    @POST
    @Path("greedy/{model: .+}")
    @Produces(MediaType.APPLICATION_JSON)
    public String greedy(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /** Two methods on one path, chosen by the client's {@code Accept}; a {@code GET} for {@code HEAD}. */
  @Path("/cn/{model}/predict")
  @ModelSecured(model = "{model}")
  public static class Negotiated {
    /** As JSON. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public String json(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }

    /** As text. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public String text(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }

    /** By {@code GET} (and so {@code HEAD}). */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String get(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /**
   * The application's own pre-matching filter: {@code /legacy/{model}} is rewritten to {@code
   * /v1/models/{model}/predict}, and {@code X-HTTP-Method-Override} replaces the method.
   */
  @PreMatching
  public static class LegacyRewrite implements ContainerRequestFilter {
    @Override
    public void filter(ContainerRequestContext request) {
      String override = request.getHeaderString("X-HTTP-Method-Override");
      if (override != null) {
        request.setMethod(override);
      }
      String path = request.getUriInfo().getPath();
      if (path.startsWith("/legacy/") || path.startsWith("legacy/")) {
        String model = path.substring(path.indexOf("legacy/") + "legacy/".length());
        request.setRequestUri(UriBuilder.fromUri(request.getUriInfo().getBaseUri())
            .path("v1/models").path(model).path("predict").build());
      }
    }
  }

  @BeforeEach
  void deploy() throws Exception {
    fixture = ConformanceFixture.create();
    List<Class<?>> resources = new ArrayList<>(ConformanceResources.ALL);
    resources.addAll(List.of(Locator.class, RegexPredict.class, Negotiated.class, LegacyRewrite.class));
    deployment = runtime().deploy(TestApplication.builder(new ModelGuardFeature(fixture.guard()))
        .resources(resources).build());
  }

  @AfterEach
  void stop() throws Exception {
    deployment.close();
  }

  @Test
  void noPathVariantOrResourceMatchingReachesAModelTheKeyMayNotInvokeOrAnyModelWithoutAKey() throws Exception {
    List<Attack> attacks = new ArrayList<>(PathBypassProbe.pathVariants("/v1/models"));
    attacks.add(Attack.post("sub-resource locator", "/loc/iris/predict"));
    attacks.add(Attack.post("sub-resource locator, dot segments", "/loc/digits/../iris/predict"));
    attacks.add(Attack.post("sub-resource locator, ;x=y", "/loc/iris;x=y/predict"));
    attacks.add(Attack.post("regex template", "/rx/iris/predict"));
    attacks.add(Attack.post("regex template, %xx", "/rx/%69ris/predict"));
    attacks.add(Attack.post("greedy regex template", "/rx/greedy/iris"));
    attacks.add(Attack.post("greedy regex template, two segments", "/rx/greedy/iris/digits"));
    attacks.add(Attack.post("greedy regex template, ;x=y", "/rx/greedy/iris;model=digits"));
    attacks.add(Attack.post("greedy regex template, trailing slash", "/rx/greedy/iris/"));
    attacks.add(new Attack("content negotiation: text method", "POST", "/cn/iris/predict", Map.of("Accept", "text/plain")));
    attacks.add(new Attack("content negotiation: GET", "GET", "/cn/iris/predict", Map.of()));
    attacks.add(Attack.post("application pre-matching rewrite", "/legacy/iris"));
    attacks.add(new Attack("pre-matching override POST -> GET", "POST", "/cn/iris/predict",
        Map.of("X-HTTP-Method-Override", "GET")));

    List<String> bypasses = new PathBypassProbe(deployment.baseUri(), fixture)
        .bypasses(getClass().getSimpleName() + ": paths and resource matching", attacks);

    assertThat(bypasses).isEmpty();
  }

  @Test
  void noMethodOrOverrideHeaderReachesAModelTheKeyMayNotInvokeOrAnyModelWithoutAKey() throws Exception {
    List<Attack> attacks = new ArrayList<>(PathBypassProbe.methodVariants("/v1/models/iris/predict"));
    for (Attack a : PathBypassProbe.methodVariants("/cn/iris/predict")) {
      attacks.add(new Attack("GET method: " + a.attack(), a.method(), a.target(), a.headers()));
    }

    List<String> bypasses = new PathBypassProbe(deployment.baseUri(), fixture)
        .bypasses(getClass().getSimpleName() + ": methods", attacks);

    assertThat(bypasses).isEmpty();
  }
}
