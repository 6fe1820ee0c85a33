package io.modelguard.examples.http;

import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ErrorHandler;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The demo servers' error pages: every error Jetty writes itself (an unknown path, a method a
 * servlet does not serve, {@code sendError(…)} from the demo's servlets, Jersey's own 404 and 405,
 * an uncaught exception) is an RFC 9457 {@code
 * application/problem+json} answer, whatever the request's {@code Accept} header, in the same shape
 * as ModelGuard's denials.
 *
 * <p>The body is fixed per status and says nothing of the request: never its URI, an exception, a
 * servlet name or the server's version.
 *
 * <ul>
 *   <li>{@code 500}: ModelGuard's {@code internal.error} problem, byte for byte ({@link
 *       ProblemRenderer#internalError()});
 *   <li>any other status (the error contract has no reason code for them):
 *       {@code {"type":"about:blank","title":"<reason phrase>","status":<status>}}, such as {@code
 *       {"type":"about:blank","title":"Not Found","status":404}}; RFC 9457 §4.2.1 makes {@code
 *       about:blank} mean "nothing more than the status", with the reason phrase as its title.
 * </ul>
 *
 * <p>Jetty's {@code Cache-Control} for errors is kept. Used for the servlet, JAX-RS and gateway
 * variants' contexts and by {@code UpstreamServer}; {@link #forServer()} is the server's handler,
 * for what no context sees (a request Jetty cannot parse, a URI or header block over its limits).
 * Thread-safe.
 */
public final class ProblemErrorHandler extends ErrorHandler {
  /** The media type of every answer. */
  public static final String PROBLEM_JSON = ProblemResponse.CONTENT_TYPE;

  /** The handler. */
  public ProblemErrorHandler() {
    quiet(this);
  }

  /** Nothing of the request or the failure in an error page. */
  private static void quiet(org.eclipse.jetty.server.handler.ErrorHandler handler) {
    handler.setShowStacks(false);
    handler.setShowCauses(false);
    handler.setShowOrigin(false);
    handler.setShowMessageInTitle(false);
  }

  /**
   * The handler for the {@code Server}: the same bodies for the errors Jetty answers before any
   * context has the request (a malformed request line or header, a bad {@code Content-Length}, a
   * URI or header block over the connector's limits), which this servlet handler, needing a
   * servlet request, would answer with an empty body.
   */
  public static Request.Handler forServer() {
    return new ServerErrors();
  }

  /** The body written for {@code status}. */
  public static String body(int status) {
    if (status == HttpStatus.INTERNAL_SERVER_ERROR_500) {
      return ProblemRenderer.internalError().bodyAsString();
    }
    return "{\"type\":\"about:blank\",\"title\":\"" + HttpStatus.getMessage(status) + "\",\"status\":" + status + "}";
  }

  /** Every method gets a body (Jetty's default writes one only for GET, POST and HEAD). */
  @Override
  public boolean errorPageForMethod(String method) {
    return true;
  }

  /** Ignores {@code Accept}: one representation, problem+json. */
  @Override
  protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
      Callback callback) throws IOException {
    if (!generateAcceptableResponse(request, response, callback, PROBLEM_JSON, List.of(StandardCharsets.UTF_8),
        code, message, cause)) {
      callback.succeeded();
    }
  }

  /**
   * Lets Jetty write its JSON error page (the servlet variant's completion depends on it), with
   * {@link #writeErrorJson} giving the body and a response wrapper the media type.
   */
  @Override
  protected boolean generateAcceptableResponse(Request request, Response response, Callback callback,
      String contentType, List<Charset> charsets, int code, String message, Throwable cause)
      throws IOException {
    return super.generateAcceptableResponse(request, new ProblemTyped(request, response), callback,
        "application/json", List.of(StandardCharsets.UTF_8), code, message, cause);
  }

  @Override
  protected void writeErrorJson(Request request, PrintWriter writer, int code, String message, Throwable cause) {
    writer.write(body(code));
  }

  /** Sets the problem media type over the {@code application/json} Jetty puts before it writes. */
  private static final class ProblemTyped extends Response.Wrapper {
    ProblemTyped(Request request, Response response) {
      super(request, response);
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
      getWrapped().getHeaders().put(HttpHeader.CONTENT_TYPE, PROBLEM_JSON);
      super.write(last, content, callback);
    }
  }

  /** Jetty's server-level handler writing {@link #body}: it needs no servlet request. */
  private static final class ServerErrors extends org.eclipse.jetty.server.handler.ErrorHandler {
    ServerErrors() {
      quiet(this);
    }

    @Override
    public boolean errorPageForMethod(String method) {
      return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
        Callback callback) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, PROBLEM_JSON);
      response.write(true, ByteBuffer.wrap(body(code).getBytes(StandardCharsets.UTF_8)), callback);
    }
  }
}
