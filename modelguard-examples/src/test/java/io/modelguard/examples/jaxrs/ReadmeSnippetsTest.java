package io.modelguard.examples.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ModelGuard;
import io.modelguard.RandomSource;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.ApiKeyStore;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.examples.gateway.Loopback;
import jakarta.servlet.ServletContextListener;
import jakarta.ws.rs.core.Application;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.servlet.ServletContainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java snippets of the root README.md that are marked {@code <!-- snippet: NAME -->} are
 * complete compilation units: this test extracts them, compiles them together with {@code javac}
 * against the test class path (every lint but {@code serial}, which a copy-paste servlet need not
 * care about, and {@code deprecation}: Jakarta REST 4.0 deprecates {@code
 * Application.getSingletons()}, which 3.1 applications use), and runs the servlet and JAX-RS ones on embedded Jetty (Jersey for
 * JAX-RS) with the guard the README's first snippet builds.
 */
class ReadmeSnippetsTest {
  private static final Pattern SNIPPET =
      Pattern.compile("<!-- snippet: ([a-z0-9-]+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern PUBLIC_TYPE = Pattern.compile("(?m)^public (?:final |abstract )?class (\\w+)");
  private static final String PREDICT = "/v1/models/digits/predict";
  private static final String FORBIDDEN = "/v1/models/iris/predict";

  @TempDir
  static Path classes;

  private static ClassLoader loader;
  private static Map<String, String> typeBySnippet;
  private static String freeKey;
  private static ModelGuard guard;
  private static final List<Server> servers = new ArrayList<>();

  @BeforeAll
  static void compile() throws Exception {
    Path readme = findReadme();
    Map<String, String> sources = new LinkedHashMap<>();
    typeBySnippet = new LinkedHashMap<>();
    Matcher m = SNIPPET.matcher(Files.readString(readme, StandardCharsets.UTF_8));
    while (m.find()) {
      Matcher type = PUBLIC_TYPE.matcher(m.group(2));
      assertThat(type.find()).as("snippet %s declares a public class", m.group(1)).isTrue();
      sources.put(type.group(1), m.group(2));
      typeBySnippet.put(m.group(1), type.group(1));
    }
    assertThat(typeBySnippet).containsKeys("guard", "predict-servlet", "servlet-setup", "jaxrs-application",
        "jaxrs-resource");

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<JavaFileObject> units = new ArrayList<>();
    sources.forEach((name, code) -> units.add(new SimpleJavaFileObject(
        URI.create("string:///" + name + JavaFileObject.Kind.SOURCE.extension), JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return code;
      }
    }));
    StringWriter diagnostics = new StringWriter();
    try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
      boolean ok = javac.getTask(diagnostics, files, null,
          List.of("-d", classes.toString(), "-classpath", System.getProperty("java.class.path"), "-Xlint:all,-serial,-deprecation",
              "-Werror", "--release", "17"),
          null, units).call();
      assertThat(ok).as("README snippets compile:%n%s", diagnostics).isTrue();
    }
    loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, ReadmeSnippetsTest.class.getClassLoader());

    byte[] pepper = new byte[ApiKeyHasher.MIN_PEPPER_BYTES];
    RandomSource.secure().nextBytes(pepper);
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
    InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    var issued = new ApiKeyIssuer(hasher, RandomSource.secure(), Clock.systemUTC())
        .issue(ApiKeyFormat.Environment.TEST, "reader", "acme", "free", null);
    keys.add(issued.record());
    freeKey = issued.key();
    guard = (ModelGuard) type("guard").getMethod("build", ApiKeyStore.class, ApiKeyHasher.class)
        .invoke(null, keys, hasher);
  }

  @AfterAll
  static void stop() throws Exception {
    for (Server s : servers) {
      s.stop();
    }
    if (loader instanceof URLClassLoader) {
      ((URLClassLoader) loader).close();
    }
  }

  private static Class<?> type(String snippet) throws ClassNotFoundException {
    return Class.forName(typeBySnippet.get(snippet), true, loader);
  }

  private static Path findReadme() throws IOException {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path readme = dir.resolve("README.md");
      if (Files.exists(dir.resolve("modelguard-examples")) && Files.exists(readme)) {
        return readme;
      }
    }
    throw new IOException("the repository's README.md was not found above " + Path.of("").toAbsolutePath());
  }

  private static URI serve(ServletContextHandler context) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(context);
    servers.add(server);
    server.start();
    return URI.create("http://127.0.0.1:" + connector.getLocalPort());
  }

  @Test
  void theServletSnippetsGuardAServletApp() throws Exception {
    ServletContextHandler context = new ServletContextHandler("/");
    // The snippets' classes are the web application's: the filter finds @ModelSecured through its loader.
    context.setClassLoader(loader);
    context.addEventListener((ServletContextListener) type("servlet-setup").getConstructor(ModelGuard.class)
        .newInstance(guard));
    URI base = serve(context);

    assertAnswers(base, "{\"tenant\":\"acme\",\"label\":3}");
  }

  @Test
  void theJaxrsSnippetsGuardAJerseyApp() throws Exception {
    Application app = (Application) type("jaxrs-application").getConstructor(ModelGuard.class).newInstance(guard);
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder(new ServletContainer(ResourceConfig.forApplication(app))), "/*");
    URI base = serve(context);

    assertAnswers(base, "{\"model\":\"digits\",\"tenant\":\"acme\",\"label\":3}");
  }

  private static void assertAnswers(URI base, String prediction) {
    HttpResponse<String> ok = Loopback.post(base, PREDICT, "application/json", "{}", "X-API-Key", freeKey);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo(prediction);

    HttpResponse<String> noKey = Loopback.post(base, PREDICT, "application/json", "{}");
    assertThat(noKey.statusCode()).isEqualTo(401);
    assertThat(noKey.body()).contains("\"code\":\"auth.missing_credentials\"");

    HttpResponse<String> forbidden = Loopback.post(base, FORBIDDEN, "application/json", "{}", "X-API-Key", freeKey);
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.body()).contains("\"code\":\"authz.model_forbidden\"");
  }
}
