package io.modelguard.jaxrs.jersey;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ModelSecured;
import io.modelguard.jaxrs.AdapterBehaviourTest;
import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.http.HttpResponse;
import org.glassfish.jersey.media.sse.EventOutput;
import org.glassfish.jersey.server.ChunkedOutput;
import org.junit.jupiter.api.Test;

/** The adapter's own behaviour on Jersey, and on what only Jersey has. */
class JerseyAdapterTest extends AdapterBehaviourTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new JerseyRuntime();
  }

  @Test
  void chunkedOutputUnderAChainWithOutputPoliciesFailsDeployment() {
    // Jersey writes the chunks after the response filter: the client got 200 and an empty body.
    assertDeploymentRefused(GuardedChunks.class, "ChunkedOutput", "GuardedChunks.chunks()", "'label-only'");
    assertDeploymentRefused(GuardedEventOutput.class, "ChunkedOutput", "GuardedEventOutput.events()", "'label-only'");
  }

  @Test
  void chunkedOutputInAResponseUnderAChainWithOutputPoliciesIsWithheld() throws Exception {
    // Deployment cannot see it behind Response; the response filter used to serialise it as
    // nothing and Jersey answered 200 with an empty body.
    HttpResponse<String> r = postToDeployed(ChunksInAResponse.class, "/chunks-in-a-response", "{}");
    ProblemResponse expected = ProblemRenderer.internalError();
    assertThat(r.statusCode()).isEqualTo(expected.status());
    assertThat(r.headers().allValues("Content-Type")).containsExactly(ProblemResponse.CONTENT_TYPE);
    assertThat(r.body()).isEqualTo(expected.bodyAsString()).doesNotContain(Escapes.SECRET);
  }

  /** Returns a {@link ChunkedOutput} wrapped in a {@link Response}, under a chain with an output policy. */
  @Path("/chunks-in-a-response")
  public static class ChunksInAResponse {
    /** Writes the raw prediction as one chunk, from another thread, after returning. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response chunks() {
      ChunkedOutput<String> output = new ChunkedOutput<>(String.class);
      Thread writer = new Thread(() -> {
        try (output) {
          output.write(Escapes.PREDICTION);
        } catch (IOException e) {
          // the client is gone: nothing to write to
        }
      });
      writer.start();
      return Response.ok(output).build();
    }
  }

  /** Returns a {@link ChunkedOutput} under a chain with an output policy. */
  @Path("/guarded-chunks")
  public static class GuardedChunks {
    /** Never deployed. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public ChunkedOutput<String> chunks() {
      return new ChunkedOutput<>(String.class);
    }
  }

  /** Returns Jersey's own event stream, a {@link ChunkedOutput}, under a chain with an output policy. */
  @Path("/guarded-event-output")
  public static class GuardedEventOutput {
    /** Never deployed. */
    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @ModelSecured(model = "digits", chain = "label-only")
    public EventOutput events() {
      return new EventOutput();
    }
  }
}
