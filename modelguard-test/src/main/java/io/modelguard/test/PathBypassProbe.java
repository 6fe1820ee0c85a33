package io.modelguard.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An attacker's tour of the ways to a guarded model past its guard, for each adapter's tests on
 * its real runtimes: request targets a runtime may read otherwise than written (dot segments,
 * encodings, path parameters, case, absolute form, a fragment), other methods and method-override
 * headers. Each variant is sent three times, as raw HTTP/1.1: with {@link
 * ConformanceFixture#premiumKey()} for {@code iris} (the control: whether the runtime routes the
 * variant to the model at all), with {@link ConformanceFixture#basicKey()} for {@code iris}, which
 * that key may not invoke, and without a key for {@code digits}. A bypass is a prediction of {@code
 * iris} answering the basic key, or one of a registered model ({@code digits} or {@code iris})
 * answering no key: the test servlets and resources answer for whatever model id they read, where an
 * application would answer 404 for one it does not serve.
 *
 * <p>With the system property {@value #TABLE_OUT_PROPERTY} naming a file, each variant's outcomes
 * are appended to it as rows of a Markdown table, for a review of the results per runtime.
 */
public final class PathBypassProbe {
  /** A system property naming a file to append the table of outcomes to. */
  public static final String TABLE_OUT_PROPERTY = "modelguard.bypass.table.out";

  /** In a target, stands for the deployment's host and port. */
  public static final String AUTHORITY = "{authority}";

  private static final Pattern SERVED = Pattern.compile("\\{\"model\":\"([^\"]*)\",\"label\":7");

  private final URI base;
  private final ConformanceFixture fixture;

  /**
   * A probe of the deployment at {@code base}, guarded by {@code fixture}'s engine.
   *
   * @param base the deployment's base URI (its host and port are used; targets are sent as given)
   * @param fixture the fixture whose keys the probe sends
   */
  public PathBypassProbe(URI base, ConformanceFixture fixture) {
    this.base = base;
    this.fixture = fixture;
  }

  /**
   * One attack: a method, a request target naming {@code iris} (sent with {@code digits} in its
   * place without a key) and extra header fields.
   *
   * @param attack what the attack tries, for the table
   * @param method the request method, as sent
   * @param target the request target, as sent
   * @param headers extra header fields
   */
  public record Attack(String attack, String method, String target, Map<String, String> headers) {
    /**
     * {@return a {@code POST} of {@code target} without extra header fields}
     *
     * @param attack what the attack tries
     * @param target the request target naming {@code iris}
     */
    public static Attack post(String attack, String target) {
      return new Attack(attack, "POST", target, Map.of());
    }
  }

  /**
   * What the runtime answered: the status and the model whose prediction the body carries.
   *
   * @param status the response status, 0 if the connection closed without one
   * @param served the model of the prediction in the body, or null for none
   */
  public record Outcome(int status, String served) {
    @Override
    public String toString() {
      return status + (served == null ? "" : " **" + served + "**");
    }
  }

  /**
   * {@return the variants of {@code prefix + "/iris/predict"} that a runtime may route to the model
   * while reading them otherwise than written}
   *
   * @param prefix the path up to the model segment, such as {@code /v1/models}
   */
  public static List<Attack> pathVariants(String prefix) {
    String m = "iris";
    String p = prefix;
    return List.of(
        Attack.post("plain", p + "/" + m + "/predict"),
        Attack.post("trailing slash", p + "/" + m + "/predict/"),
        Attack.post("leading //", "/" + p + "/" + m + "/predict"),
        Attack.post("// before model", p + "//" + m + "/predict"),
        Attack.post("/./", p + "/./" + m + "/predict"),
        Attack.post("/../", p + "/digits/../" + m + "/predict"),
        Attack.post("%2e%2e", p + "/digits/%2e%2e/" + m + "/predict"),
        Attack.post("%2E%2E", p + "/digits/%2E%2E/" + m + "/predict"),
        Attack.post("..;/ (path parameter on ..)", p + "/digits/..;/" + m + "/predict"),
        Attack.post("%2F in model", p + "/digits%2F..%2F" + m + "/predict"),
        Attack.post("%2F before predict", p + "/" + m + "%2Fpredict"),
        Attack.post("%252F", p + "/" + m + "%252Fpredict"),
        Attack.post(";jsessionid on model", p + "/" + m + ";jsessionid=x/predict"),
        Attack.post(";x=y on last segment", p + "/" + m + "/predict;x=y"),
        Attack.post(";v=1 on the segment before", p + ";v=1/" + m + "/predict"),
        Attack.post("; then ..", p + "/digits;/../" + m + "/predict"),
        Attack.post("matrix names digits", p + "/" + m + ";model=digits/predict"),
        Attack.post("PREDICT upper", p + "/" + m + "/PREDICT"),
        Attack.post("prefix upper", p.toUpperCase(Locale.ROOT) + "/" + m + "/predict"),
        Attack.post("model upper", p + "/" + m.toUpperCase(Locale.ROOT) + "/predict"),
        Attack.post("%xx first letter", p + "/%69ris/predict"),
        Attack.post("fullwidth first letter (NFKC)", p + "/" + percentEncoded("\uFF49") + "ris/predict"),
        Attack.post("model with dot suffix", p + "/" + m + ".json/predict"),
        Attack.post("overlong UTF-8 dots", p + "/digits/%C0%AE%C0%AE/" + m + "/predict"),
        Attack.post("backslash raw", p + "/digits\\..\\" + m + "/predict"),
        Attack.post("%5C backslash", p + "/digits%5C..%5C" + m + "/predict"),
        Attack.post("%00 after model", p + "/" + m + "%00/predict"),
        Attack.post("%20 after model", p + "/" + m + "%20/predict"),
        Attack.post("query names digits", p + "/" + m + "/predict?model=digits"),
        Attack.post("fragment", p + "/" + m + "/predict#digits"),
        Attack.post("/. last", p + "/" + m + "/predict/."),
        Attack.post("absolute-form", "http://" + AUTHORITY + p + "/" + m + "/predict"),
        Attack.post("absolute-form, other host", "http://digits.invalid" + p + "/" + m + "/predict"),
        Attack.post("//host authority-like", "//digits.invalid" + p + "/" + m + "/predict"));
  }

  /**
   * {@return other methods and method-override headers on {@code path}, which names {@code iris}}
   *
   * @param path the path of the guarded endpoint for {@code iris}
   */
  public static List<Attack> methodVariants(String path) {
    List<Attack> attacks = new ArrayList<>();
    for (String method : List.of("HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "TRACE", "GET", "post")) {
      attacks.add(new Attack(method + ("GET".equals(method) ? " with body" : ""), method, path, Map.of()));
    }
    attacks.add(new Attack("X-HTTP-Method-Override: POST on GET", "GET", path, Map.of("X-HTTP-Method-Override", "POST")));
    attacks.add(new Attack("X-HTTP-Method-Override: GET on POST", "POST", path, Map.of("X-HTTP-Method-Override", "GET")));
    attacks.add(new Attack("X-Original-URL / X-Rewrite-URL name digits", "POST", path,
        Map.of("X-Original-URL", path.replace("iris", "digits"), "X-Rewrite-URL", path.replace("iris", "digits"))));
    return attacks;
  }

  /**
   * Sends each attack as the class documentation says and returns the bypasses found, appending
   * the table of outcomes under {@code title} if {@value #TABLE_OUT_PROPERTY} is set.
   *
   * @param title the table's heading (the test and runtime)
   * @param attacks the attacks
   * @return a line per bypass: the attack, the key and the outcome; empty if none
   * @throws IOException if a connection fails or a read times out
   */
  public List<String> bypasses(String title, List<Attack> attacks) throws IOException {
    List<String> rows = new ArrayList<>();
    List<String> bypasses = new ArrayList<>();
    for (Attack a : attacks) {
      Outcome control = exchange(a, a.target(), fixture.premiumKey());
      Outcome basic = exchange(a, a.target(), fixture.basicKey());
      Outcome anonymous = exchange(a, a.target().replace("iris", "digits"), null);
      if ("iris".equals(basic.served())) {
        bypasses.add(a.attack() + " with the basic key: " + basic);
      }
      if ("digits".equals(anonymous.served()) || "iris".equals(anonymous.served())) {
        bypasses.add(a.attack() + " without a key: " + anonymous);
      }
      rows.add("| " + a.attack() + " | `" + a.method() + " " + a.target().replace("|", "\\|") + "` | " + control + " | "
          + basic + " | " + anonymous + " |");
    }
    table(title, rows);
    return bypasses;
  }

  /** Sends {@code attack}'s method and headers to {@code target}, with {@code key} if not null. */
  private Outcome exchange(Attack attack, String target, String key) throws IOException {
    String authority = base.getHost() + ":" + base.getPort();
    StringBuilder request = new StringBuilder(attack.method()).append(' ').append(target.replace(AUTHORITY, authority))
        .append(" HTTP/1.1\r\n")
        .append("Host: ").append(authority).append("\r\n")
        .append("Connection: close\r\n")
        .append("Content-Type: application/json\r\n")
        .append("Content-Length: 2\r\n");
    if (key != null) {
      request.append("X-API-Key: ").append(key).append("\r\n");
    }
    attack.headers().forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    String response = RawHttp.exchange(base, request.append("\r\n{}").toString());
    if (response.length() < 12) {
      return new Outcome(0, null);
    }
    Matcher served = SERVED.matcher(response);
    return new Outcome(Integer.parseInt(response.substring(9, 12)), served.find() ? served.group(1) : null);
  }

  private static String percentEncoded(String text) {
    StringBuilder out = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      out.append('%').append(String.format("%02X", b & 0xFF));
    }
    return out.toString();
  }

  private static void table(String title, List<String> rows) {
    String out = System.getProperty(TABLE_OUT_PROPERTY);
    if (out == null) {
      return;
    }
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add("### " + title);
    lines.add("| attack | request | premium -> iris (control) | basic -> iris | no key -> digits |");
    lines.add("|---|---|---|---|---|");
    lines.addAll(rows);
    try {
      Files.write(Path.of(out), lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
