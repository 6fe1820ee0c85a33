package io.modelguard.examples.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.ModelGuard;
import io.modelguard.ModelSecured;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/models}: the models the caller may invoke, {@code {"models":["digits", ...]}},
 * from {@link ModelGuard#modelsFor(Principal)}.
 *
 * <p>Guarded by the {@value #CHAIN} chain, which authenticates but authorizes no model (the path
 * names none): no key → 401. The principal comes from the decision the filter publishes (see
 * {@link GuardDecisions}); if there is none the servlet fails closed with {@code 500
 * internal.error}. Thread-safe.
 */
@ModelSecured(chain = ModelListServlet.CHAIN, path = ModelListServlet.PATH)
public final class ModelListServlet extends HttpServlet {
  /** The path it is mapped to. */
  public static final String PATH = "/v1/models";
  /** The name of its chain: authentication only. */
  public static final String CHAIN = "catalog";

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(ModelListServlet.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final transient ModelGuard guard;

  /** Lists models as {@code guard} grants them. */
  public ModelListServlet(ModelGuard guard) {
    this.guard = Objects.requireNonNull(guard, "guard");
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<Principal> principal = GuardDecisions.principal(request);
    if (principal.isEmpty()) {
      log.error("GET {}: no allowing GuardDecision in request attribute {}; is ModelGuardFilter installed "
          + "in front of this servlet? Refusing.", PATH, GuardDecisions.ATTRIBUTE);
      Problems.send(response, ReasonCode.INTERNAL_ERROR);
      return;
    }
    byte[] out = JSON.writeValueAsBytes(Map.of("models", List.copyOf(guard.modelsFor(principal.get()))));
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(out.length);
    response.getOutputStream().write(out);
  }
}
