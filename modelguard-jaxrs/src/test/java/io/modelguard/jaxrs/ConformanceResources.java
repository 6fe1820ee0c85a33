package io.modelguard.jaxrs;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.input.InputConformance;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * The endpoints {@link ConformanceFixture} documents, as JAX-RS resources shared by every runtime.
 */
public final class ConformanceResources {
  /** Every conformance resource class. */
  public static final List<Class<?>> ALL =
      List.of(Predict.class, Failing.class, Rewrite.class, Echo.class, Validate.class, Open.class);

  private ConformanceResources() {}

  /** {@value ConformanceFixture#PREDICT}: the default chain, model from the path. */
  @Path(ConformanceFixture.PREDICT)
  @ModelSecured(model = "{model}")
  public static class Predict {
    /** The prediction for the path's model. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public String predict(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /** {@value ConformanceFixture#FAILING}: a chain whose policy throws. */
  @Path(ConformanceFixture.FAILING)
  @ModelSecured(model = "digits", chain = "failing")
  public static class Failing {
    /** The prediction for digits (never reached). */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public String predict() {
      return ConformanceFixture.prediction("digits");
    }
  }

  /** {@value ConformanceFixture#REWRITE}: a chain with an output policy. */
  @Path(ConformanceFixture.REWRITE)
  @ModelSecured(model = "{model}", chain = "rewriting")
  public static class Rewrite {
    /** The prediction for the path's model, before the output policy rewrites it. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public String predict(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /** {@value ConformanceFixture#ECHO}: a chain whose policy reads the body. */
  @Path(ConformanceFixture.ECHO)
  @ModelSecured(model = "{model}", chain = "body-limit")
  public static class Echo {
    /** The request body, unchanged. */
    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public byte[] echo(byte[] body) {
      return body;
    }
  }

  /**
   * {@value ConformanceFixture#VALIDATE}: chain {@value InputConformance#CHAIN}, whose input policy
   * reads and checks the body. It consumes any media type, so that the policy, not the runtime's
   * resource matching, answers a request of the wrong type.
   */
  @Path(ConformanceFixture.VALIDATE)
  @ModelSecured(model = "{model}", chain = InputConformance.CHAIN)
  public static class Validate {
    /** The prediction for the path's model. */
    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public String predict(@PathParam("model") String model) {
      return ConformanceFixture.prediction(model);
    }
  }

  /** {@value ConformanceFixture#OPEN}: not guarded. */
  @Path(ConformanceFixture.OPEN)
  public static class Open {
    /** Always {@code open}. */
    @GET
    @Produces(MediaType.TEXT_PLAIN)
    public String open() {
      return "open";
    }
  }
}
