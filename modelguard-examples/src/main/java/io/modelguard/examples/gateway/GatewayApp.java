package io.modelguard.examples.gateway;

import io.modelguard.examples.DemoShutdown;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.StartupException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The demo in gateway mode: the same configuration, tiers, keys, policies and endpoints as {@link
 * ModelServingApp}, but {@code POST /v1/models/{model}/predict} is answered by a remote model
 * server ({@link GatewayServlet}), with every policy applied here at the edge. {@code GET
 * /v1/models}, {@code /healthz} and the demo issuer are served as in the demo.
 *
 * <pre>
 * java -cp modelguard-examples.jar io.modelguard.examples.gateway.UpstreamServer --port 9000 &amp;
 * java -cp modelguard-examples.jar io.modelguard.examples.gateway.GatewayApp \
 *     --upstream http://127.0.0.1:9000 [--upstream MODEL=URL] [--upstream-timeout MS] [--relay-header NAME] \
 *     [the demo's options]
 * </pre>
 */
public final class GatewayApp {
  private static final String PROGRAM = "modelguard-gateway";

  /** The gateway's own options, printed by {@code --help} before the demo's. */
  public static final String USAGE = String.join(System.lineSeparator(),
      "Usage: java -cp modelguard-examples.jar io.modelguard.examples.gateway.GatewayApp --upstream URL [options]",
      "",
      "Gateway options:",
      "  --upstream URL          the model server predictions go to (http or https, no credentials)",
      "  --upstream MODEL=URL    the model server of MODEL (repeatable; an unknown model is refused at start)",
      "  --upstream-timeout MS   the time allowed for a whole answer, headers and body (default "
          + Upstreams.DEFAULT_TIMEOUT.toMillis() + ", at most " + Upstreams.MAX_TIMEOUT.toMillis() + ")",
      "  --relay-header NAME     one more header of the upstream's answer to relay, one known to carry nothing",
      "                          of the prediction (repeatable; by default only Content-Type and "
          + String.join(", ", Upstreams.DEFAULT_RELAYED_HEADERS) + " are)",
      "",
      "The demo's options apply too:");

  private GatewayApp() {}

  /** Runs the gateway until the process is stopped; exit code 2 for an invalid option. */
  public static void main(String[] args) throws Exception {
    DemoShutdown.runMain("modelguard-shutdown",
        shutdown -> run(args, System.getenv(), System.out, System.err, shutdown));
  }

  /** {@link #main} without {@code System.exit} and without a shutdown hook. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return run(args, env, out, err, DemoShutdown.none());
  }

  /**
   * {@link #main} without {@code System.exit}: the app, once started and before it is announced, is
   * given to {@code shutdown} to close at exit.
   */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, DemoShutdown shutdown) {
    List<String> rest = new ArrayList<>();
    Upstreams upstreams;
    try {
      upstreams = parse(args, rest);
    } catch (StartupException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return StartupException.EXIT_CODE;
    }
    if (rest.contains("--help") || rest.contains("-h")) {
      out.println(USAGE);
    }
    return ModelServingApp.run(rest.toArray(new String[0]), env, out, err, endpoints(upstreams), shutdown);
  }

  /**
   * The gateway's endpoints: the servlet demo's, with {@link GatewayServlet} answering predictions,
   * which may refuse one unserved (its quota charge then settled to nothing).
   */
  public static ModelServingApp.Endpoints endpoints(Upstreams upstreams) {
    return ModelServingApp.Endpoints.leavingUnserved(
        site -> ModelServingApp.context(new GatewayServlet(upstreams, GatewayServlet.client(upstreams)), site));
  }

  /**
   * Takes the gateway's own options out of {@code args} (the others go to {@code rest}, for the
   * demo's parser).
   *
   * @throws StartupException naming the flag, for a missing or invalid value, or no upstream
   */
  static Upstreams parse(String[] args, List<String> rest) throws StartupException {
    Upstreams upstreams = Upstreams.none();
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      int eq = arg.indexOf('=');
      String name = arg.startsWith("--") && eq > 0 ? arg.substring(0, eq) : arg;
      if (!name.equals("--upstream") && !name.equals("--upstream-timeout") && !name.equals("--relay-header")) {
        help |= arg.equals("--help") || arg.equals("-h");
        rest.add(arg);
        continue;
      }
      String value = eq > 0 && arg.startsWith("--") ? arg.substring(eq + 1) : null;
      if (value == null) {
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new StartupException(name + " needs a value");
        }
        value = args[++i];
      }
      try {
        upstreams = switch (name) {
          case "--upstream" -> upstreams.withOption(value);
          case "--relay-header" -> upstreams.withRelayedHeader(value);
          default -> upstreams.withTimeout(Duration.ofMillis(Long.parseLong(value.strip())));
        };
      } catch (NumberFormatException e) {
        throw new StartupException(name + " must be a number of milliseconds", e);
      } catch (IllegalArgumentException e) {
        throw new StartupException(name + ": " + e.getMessage(), e);
      }
    }
    if (upstreams.isEmpty() && !help) {
      throw new StartupException("--upstream URL is required (the model server to guard, such as "
          + "http://127.0.0.1:9000)");
    }
    return upstreams;
  }
}
