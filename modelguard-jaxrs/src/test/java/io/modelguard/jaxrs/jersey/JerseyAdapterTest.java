package io.modelguard.jaxrs.jersey;

import io.modelguard.ModelSecured;
import io.modelguard.jaxrs.AdapterBehaviourTest;
import io.modelguard.jaxrs.JaxrsRuntime;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
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
