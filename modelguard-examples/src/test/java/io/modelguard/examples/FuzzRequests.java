package io.modelguard.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.zip.GZIPOutputStream;

/**
 * Generates raw HTTP/1.x requests for the demo, well-formed and not: request lines, header blocks,
 * framings and JSON bodies drawn from a {@link SplittableRandom}, so that one seed and one index
 * always give the same bytes (for the same credentials and image server port).
 *
 * <p>Nothing generated names a host the demo could fetch from other than the loopback image server:
 * every other image URL is either refused by the test's allow-list before any lookup or not an
 * {@code http(s)} URL at all.
 */
final class FuzzRequests {
  /** The bodies are bounded: the largest is {@value} bytes. */
  static final int MAX_BODY_BYTES = 3 << 20;

  private static final List<String> MODELS = List.of("digits", "iris", "image-classifier", "sentiment");
  private static final List<String> WORDS = List.of("the", "staff", "were", "friendly", "room", "dirty", "awful",
      "great", "café", "naïve", "😀", "\\u00e9", "\\\"", "\\n", "not", "bad");

  /** One generated request: what it tries, its bytes, whether its framing is complete, its method. */
  record Request(String summary, byte[] bytes, boolean complete, String method) {
    boolean head() {
      return method.equals("HEAD");
    }
  }

  /** What the demo's callers may present. */
  record Credentials(String free, String pro, String enterprise, String revoked, String expired, String jwt) {}

  private final SplittableRandom random;
  private final Credentials credentials;
  private final String images;
  private final List<String> tried = new ArrayList<>();

  /** @param images the loopback image server's base URL, such as {@code http://127.0.0.1:PORT} */
  FuzzRequests(SplittableRandom random, Credentials credentials, String images) {
    this.random = random;
    this.credentials = credentials;
    this.images = images;
  }

  /** The request for {@code index} of the run with {@code seed}: independent of every other index. */
  static Request generate(long seed, int index, Credentials credentials, String images) {
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    return new FuzzRequests(random, credentials, images).next();
  }

  /**
   * One request. About one in three carries exactly one protocol-level oddity (a request line,
   * header block or framing a well-behaved client would not send), so that each container answer
   * can be traced to it; the rest are well-formed HTTP whose content varies.
   */
  private Request next() {
    String oddity = chance(30) ? pick(ODDITIES) : "";
    if (!oddity.isEmpty()) {
      tried.add("ODD " + oddity);
    }
    String model = pick(MODELS);
    String method = oddity.equals("method") ? pick(List.of("post", "P@ST", "FOO", "X".repeat(300), "GET\u00e9", "",
        "POST\t", "CONNECT", "PRI")) : method();
    String version = oddity.equals("version")
        ? pick(List.of("HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1", "", "HTTP/1.1 extra", "HTTP/0.9"))
        : chance(85) ? "HTTP/1.1" : "HTTP/1.0";
    String target = oddity.equals("target") ? pick(List.of("/v1/models/ímage/predict", "*",
        "http://127.0.0.1/v1/models/" + model + "/predict", "v1/models/" + model + "/predict",
        "/v1/models/" + model + "/predict extra", "/v1/models/\\" + model + "/predict",
        "/v1/models/" + "a".repeat(1 + random.nextInt(20_000)) + "/predict", "/v1/models/" + model + "/predict#frag"))
        : target(model);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(out, method + " " + target + " " + version + "\r\n");
    tried.add(method + " " + abbreviate(target) + " " + version);

    List<String[]> headers = new ArrayList<>();
    if (!version.equals("HTTP/1.0") && !oddity.equals("no-host")) {
      headers.add(new String[] {"Host", oddity.equals("bad-host") ? pick(List.of("", "a b", "x".repeat(300), "[::1"))
          : "127.0.0.1"});
      if (oddity.equals("two-hosts")) {
        headers.add(new String[] {"Host", "other.example"});
      }
    }
    credentials(headers);
    if (chance(30)) {
      headers.add(new String[] {"Accept", pick(List.of("text/html", "application/xml", "*/*",
          "application/problem+json", "image/png;q=0", "text/html, application/xhtml+xml"))});
    }
    if (chance(10)) {
      headers.add(new String[] {"Expect", chance(90) ? "100-continue" : "200-ok"});
      tried.add("Expect");
    }
    boolean sendsBody = method.equals("POST") || method.equals("PUT") || chance(15);
    byte[] body = sendsBody ? body(model) : new byte[0];
    if (sendsBody) {
      String contentType = contentType();
      if (contentType != null) {
        headers.add(new String[] {"Content-Type", contentType});
      }
      body = contentEncoding(headers, body);
    }
    if (chance(90)) {
      headers.add(new String[] {"Connection", "close"});
    }
    oddHeader(oddity, headers);
    boolean complete = true;
    byte[] framedBody = body;
    if (sendsBody) {
      Framed framed = frame(oddity, version, headers, body);
      framedBody = framed.bytes();
      complete = framed.complete();
    }
    for (String[] h : headers) {
      write(out, h[0] + (h[1] == null ? "" : ": " + h[1]) + "\r\n");
    }
    write(out, "\r\n");
    out.writeBytes(framedBody);
    return new Request(String.join("; ", tried), out.toByteArray(), complete, method);
  }

  private static final List<String> ODDITIES = List.of("method", "version", "target", "no-host", "two-hosts",
      "bad-host", "long-header", "no-colon", "folded", "non-ascii-header", "many-headers", "space-in-name",
      "cl-short", "cl-long", "cl-odd", "two-cl", "chunked-broken", "cl-and-te", "no-framing");

  private String method() {
    int r = random.nextInt(100);
    if (r < 66) {
      return "POST";
    }
    if (r < 80) {
      return "GET";
    }
    if (r < 86) {
      return "HEAD";
    }
    if (r < 90) {
      return "PUT";
    }
    if (r < 94) {
      return "OPTIONS";
    }
    return pick(List.of("DELETE", "TRACE", "PATCH"));
  }

  private String target(String model) {
    String predict = "/v1/models/" + model + "/predict";
    int r = random.nextInt(100);
    if (r < 65) {
      return predict;
    }
    if (r < 72) {
      return pick(List.of("/v1/models", "/healthz", "/metrics", "/demo/token", "/.well-known/jwks.json", "/",
          "/nope"));
    }
    String query = "?" + pick(List.of("x=1", "x=%ZZ", "a=b&a=c", "q=" + "z".repeat(2000), "%00", "%C3%A9=%C3%BC", ""));
    return pick(List.of(
        "/v1/models/resnet/predict",
        "/v1/models//predict",
        predict + "/",
        "/" + predict,
        "/v1/models/" + model + "%2Fpredict",
        "/v1/models/%2e%2e/" + model + "/predict",
        "/v1/models/" + model + "/../" + model + "/predict",
        "/v1/models/" + model + "/%2e%2e/%2e%2e/healthz",
        "/v1/models/" + model + ";jsessionid=1/predict",
        predict + ";a=b",
        "/v1/models/%64igits/predict",
        "/v1/models/DIGITS/predict",
        predict + query,
        predict + query,
        "/v1/models/%C3%ADmage/predict",
        "/v1/models/%00/predict",
        "/v1/models/%c0%ae%c0%ae/predict",
        "/v1/models/%ff/predict",
        "/v1/models/" + "a".repeat(1 + random.nextInt(2_000)) + "/predict"));
  }

  private void credentials(List<String[]> headers) {
    int r = random.nextInt(100);
    String key = pick(List.of(credentials.pro(), credentials.enterprise(), credentials.enterprise(),
        credentials.free()));
    if (r < 45) {
      headers.add(new String[] {"X-API-Key", key});
    } else if (r < 52) {
      headers.add(new String[] {"X-API-Key", pick(List.of(credentials.revoked(), credentials.expired(),
          "mg_test_nope", "", "x".repeat(10_000), key.substring(0, key.length() - 1), key + "x", " " + key,
          key.toUpperCase(java.util.Locale.ROOT)))});
      tried.add("bad key");
    } else if (r < 56) {
      headers.add(new String[] {"X-API-Key", key});
      headers.add(new String[] {"X-API-Key", chance(50) ? key : "mg_test_other"});
      tried.add("two keys");
    } else if (r < 70) {
      headers.add(new String[] {"Authorization", "Bearer " + credentials.jwt()});
    } else if (r < 80) {
      headers.add(new String[] {"Authorization", pick(List.of("Bearer garbage", "Bearer", "Bearer ",
          "Bearer a.b.c", "Bearer " + "e".repeat(9_000), "bearer " + credentials.jwt(),
          "Basic " + Base64.getEncoder().encodeToString(("u:" + key).getBytes(StandardCharsets.UTF_8)),
          "Bearer " + credentials.jwt().substring(0, credentials.jwt().length() - 2),
          "Bearer " + credentials.jwt() + " extra", "Digest x"))});
      tried.add("bad Authorization");
    } else if (r < 84) {
      headers.add(new String[] {"Authorization", "Bearer " + credentials.jwt()});
      headers.add(new String[] {"X-API-Key", chance(50) ? key : "mg_test_nope"});
      tried.add("token and key");
    } else {
      tried.add("no credentials");
    }
  }

  private String contentType() {
    int r = random.nextInt(100);
    if (r < 60) {
      return "application/json";
    }
    if (r < 70) {
      return null;
    }
    String type = pick(List.of("application/json; charset=utf-8", "application/json;charset=UTF-8",
        "APPLICATION/JSON", "application/json; charset=utf-16", "application/json; charset=latin1",
        "application/json; charset=nope", "application/json; charset=", "application/problem+json",
        "application/vnd.api+json", "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", ";;;", "application/", "*/*", "application/json\u00ff",
        "application/json; " + "p=v;".repeat(1_000), "", "text/json", "application/json ; q=1"));
    tried.add("Content-Type " + abbreviate(type));
    return type;
  }

  private byte[] contentEncoding(List<String[]> headers, byte[] body) {
    if (!chance(8)) {
      return body;
    }
    String coding = pick(List.of("gzip", "gzip", "gzip-broken", "deflate", "br", "identity", "x-unknown",
        "gzip, gzip"));
    tried.add("Content-Encoding " + coding);
    if (coding.equals("gzip-broken")) {
      headers.add(new String[] {"Content-Encoding", "gzip"});
      byte[] broken = new byte[Math.min(body.length, 64) + 10];
      broken[0] = 0x1f;
      broken[1] = (byte) 0x8b;
      return broken;
    }
    headers.add(new String[] {"Content-Encoding", coding});
    return coding.startsWith("gzip") ? gzip(body) : body;
  }

  private void oddHeader(String oddity, List<String[]> headers) {
    switch (oddity) {
      case "long-header" -> headers.add(new String[] {"X-Long", "v".repeat(4_000 + random.nextInt(30_000))});
      case "no-colon" -> headers.add(new String[] {"No-Colon-Here", null});
      case "folded" -> headers.add(new String[] {"X-Folded", "a\r\n  b"});
      case "non-ascii-header" -> headers.add(new String[] {"X-Bytes", pick(List.of("caf\u00e9", "a\u0001b", "a\u0000b"))});
      case "many-headers" -> {
        for (int i = 0; i < 300; i++) {
          headers.add(new String[] {"X-Many-" + i, "v"});
        }
      }
      case "space-in-name" -> headers.add(new String[] {pick(List.of(" X-Leading-Space", "X-Trailing ", "X Mid")), "v"});
      default -> {
        // well-formed header block
      }
    }
  }

  private record Framed(byte[] bytes, boolean complete) {}

  /**
   * Frames {@code body}: {@code Content-Length} or (HTTP/1.1) valid chunks for a well-formed
   * request; the framing oddity otherwise. A request whose framing leaves the server waiting for
   * more is marked incomplete (the client then half-closes).
   */
  private Framed frame(String oddity, String version, List<String[]> headers, byte[] body) {
    String length = Integer.toString(body.length);
    switch (oddity) {
      case "cl-short" -> {
        headers.add(new String[] {"Content-Length", Integer.toString(body.length == 0 ? 0 : random.nextInt(body.length))});
        return new Framed(body, true);
      }
      case "cl-long" -> {
        headers.add(new String[] {"Content-Length", Integer.toString(body.length + 1 + random.nextInt(100))});
        return new Framed(body, false);
      }
      case "cl-odd" -> {
        String odd = pick(List.of("-1", "99999999999999999999", "4294967296", "abc", " " + length, "+" + length,
            length + ".0", "0x10", "", length + ", " + length));
        headers.add(new String[] {"Content-Length", odd});
        tried.add("Content-Length '" + odd + "'");
        return new Framed(body, false);
      }
      case "two-cl" -> {
        headers.add(new String[] {"Content-Length", length});
        headers.add(new String[] {"Content-Length", chance(50) ? length : Integer.toString(body.length + 1)});
        return new Framed(body, false);
      }
      case "chunked-broken" -> {
        headers.add(new String[] {"Transfer-Encoding", "chunked"});
        String broken = pick(List.of("bad-size", "no-last-chunk", "too-long-size", "negative", "huge-size",
            "no-crlf"));
        tried.add("chunked, " + broken);
        return new Framed(chunked(body, broken), false);
      }
      case "cl-and-te" -> {
        headers.add(new String[] {"Content-Length", length});
        headers.add(new String[] {"Transfer-Encoding", pick(List.of("chunked", "gzip, chunked", "identity", "x"))});
        return new Framed(chunked(body, null), false);
      }
      case "no-framing" -> {
        return new Framed(chance(50) ? body : new byte[0], true);
      }
      default -> {
        if (version.equals("HTTP/1.1") && chance(15)) {
          headers.add(new String[] {"Transfer-Encoding", "chunked"});
          boolean extension = chance(20);
          tried.add(extension ? "chunked with an extension" : "chunked");
          return new Framed(chunked(body, extension ? "extension" : null), true);
        }
        headers.add(new String[] {"Content-Length", length});
        return new Framed(body, true);
      }
    }
  }

  private byte[] chunked(byte[] body, String broken) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    boolean first = true;
    while (at < body.length) {
      int n = Math.min(body.length - at, 1 + random.nextInt(Math.max(1, Math.min(body.length, 70_000))));
      String size = Integer.toHexString(n);
      if (first && broken != null) {
        size = switch (broken) {
          case "bad-size" -> "zz";
          case "too-long-size" -> Integer.toHexString(n + 5);
          case "extension" -> size + ";name=value";
          case "negative" -> "-" + size;
          case "huge-size" -> "ffffffffffffffff";
          default -> size;
        };
      }
      write(out, size + (first && "no-crlf".equals(broken) ? "" : "\r\n"));
      out.write(body, at, n);
      write(out, "\r\n");
      at += n;
      first = false;
    }
    if (!"no-last-chunk".equals(broken)) {
      write(out, "0\r\n\r\n");
    }
    return out.toByteArray();
  }

  /** A body for {@code model}: its valid input, mutated in about two cases of three. */
  private byte[] body(String model) {
    String json = switch (model) {
      case "digits" -> numbers("pixels", 64, true);
      case "iris" -> numbers("features", 4, false);
      case "sentiment" -> "{\"text\":\"" + sentence() + "\"}";
      default -> "{\"imageUrl\":\"" + imageUrl() + "\"}";
    };
    String field = json.substring(2, json.indexOf('"', 2));
    if (chance(35)) {
      return utf8(json);
    }
    int mutations = 1 + random.nextInt(2);
    byte[] body = utf8(json);
    for (int i = 0; i < mutations; i++) {
      body = mutate(body, field);
    }
    return body;
  }

  private byte[] mutate(byte[] body, String field) {
    String json = new String(body, StandardCharsets.UTF_8);
    String m = pick(List.of("truncate", "nest", "huge-number", "nan", "duplicate", "wrong-type", "extra-field",
        "long-string", "invalid-utf8", "bom", "empty", "very-large", "control", "lenient", "two-roots", "null-char",
        "utf16"));
    tried.add(m);
    return switch (m) {
      case "truncate" -> java.util.Arrays.copyOf(body, random.nextInt(body.length + 1));
      case "nest" -> {
        int depth = pick(List.of(10, 100, 1_000, 10_000, 200_000));
        yield utf8("{\"" + field + "\":" + "[".repeat(depth) + "1" + "]".repeat(chance(80) ? depth : 0) + "}");
      }
      case "huge-number" -> utf8(json.replaceFirst("\\[[-0-9.eE]+", "[" + pick(List.of("1e999999", "-1E400",
          "1" + "0".repeat(5_000), "0." + "1".repeat(2_000), "-0", "1e-400", "9223372036854775808",
          "1" + "0".repeat(500_000)))));
      case "nan" -> utf8(json.replaceFirst("\\[[-0-9.eE]+", "[" + pick(List.of("NaN", "Infinity", "-Infinity",
          "+1", ".5", "01", "1.", "0x10"))));
      case "duplicate" -> utf8(json.replaceFirst("\\}$", ",\"" + field + "\":" + pick(List.of("[1]", "null",
          "\"x\"")) + "}"));
      case "wrong-type" -> utf8(pick(List.of("{\"" + field + "\":\"abc\"}", "{\"" + field + "\":{}}",
          "{\"" + field + "\":null}", "{\"" + field + "\":true}", "[]", "\"string\"", "42", "null",
          "{\"" + field + "\":[\"1\",\"2\"]}", "{\"" + field + "\":[[1],[2]]}", "{\"" + field + "\":[{}]}",
          "{\"" + field + "\":[null,true]}", "{\"" + field + "\":1}")));
      case "extra-field" -> utf8(json.replaceFirst("\\}$", "," + pick(List.of("\"extra\":1", "\"__proto__\":{}",
          "\"\":\"\"", "\"" + field + "X\":1", "\"model\":\"iris\"")) + "}"));
      case "long-string" -> utf8("{\"" + field + "\":\"" + "a".repeat(pick(List.of(501, 9_000, 100_000,
          1_500_000))) + "\"}");
      case "invalid-utf8" -> splice(body, pick(List.of(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF},
          new byte[] {(byte) 0xC0, (byte) 0xAF}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
          new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xE2, (byte) 0x82})));
      case "bom" -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, body);
      case "empty" -> new byte[0];
      case "very-large" -> {
        int n = (1 << 20) + random.nextInt(MAX_BODY_BYTES - (1 << 20) - 64);
        yield utf8("{\"" + field + "\":[" + "1,".repeat(n / 2) + "1]}");
      }
      case "control" -> utf8(json.replaceFirst("\\{", "{\u0001 ").replace("\"text\":\"", "\"text\":\"\t\u0000"));
      case "lenient" -> utf8(pick(List.of(json.replace('"', '\''), json.replaceFirst("\\]", ",]"),
          "/* c */" + json, json.replaceFirst("\"" + field + "\"", field), json + "\n// c")));
      case "two-roots" -> utf8(json + json);
      case "null-char" -> utf8(json.replaceFirst("\\}$", ",\"x\\u0000y\":\"\\ud800\"}"));
      case "utf16" -> json.getBytes(StandardCharsets.UTF_16);
      default -> throw new IllegalStateException(m);
    };
  }

  private String imageUrl() {
    return pick(List.of(
        images + "/seven.png",
        images + "/seven.png",
        images + "/missing.png",
        images + "/page.html",
        images + "/seven.png#frag",
        images + "/seven.png?x=" + "y".repeat(3_000),
        "http://user:pw@" + images.substring("http://".length()) + "/seven.png",
        "http://127.0.0.1:1/x.png",
        "http://localhost:" + images.substring(images.lastIndexOf(':') + 1) + "/seven.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "http://[::1]/x.png",
        "http://0x7f.1/x.png",
        "http://2130706433/x.png",
        "http://example.invalid/x.png",
        "https://images.example.com/x.png",
        "http://bücher.example/x.png",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.png",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "",
        "http://",
        "http://exa mple.com/",
        "\\\\server\\share",
        "http://%31%32%37.0.0.1/x.png"));
  }

  private String numbers(String field, int count, boolean integers) {
    StringJoiner j = new StringJoiner(",", "{\"" + field + "\":[", "]}");
    for (int i = 0; i < count; i++) {
      j.add(integers ? Integer.toString(random.nextInt(17)) : String.format(java.util.Locale.ROOT, "%.1f",
          random.nextDouble() * 8));
    }
    return j.toString();
  }

  private String sentence() {
    StringJoiner j = new StringJoiner(" ");
    for (int i = 0, n = 1 + random.nextInt(12); i < n; i++) {
      j.add(pick(WORDS));
    }
    return j.toString();
  }

  private boolean chance(int percent) {
    return random.nextInt(100) < percent;
  }

  private <T> T pick(List<T> choices) {
    return choices.get(random.nextInt(choices.size()));
  }

  private byte[] splice(byte[] body, byte[] bytes) {
    int at = body.length == 0 ? 0 : random.nextInt(body.length);
    return concat(concat(java.util.Arrays.copyOf(body, at), bytes),
        java.util.Arrays.copyOfRange(body, at, body.length));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Request lines and headers go out as UTF-8: non-ASCII there is one of the things tried. */
  private static void write(ByteArrayOutputStream out, String s) {
    out.writeBytes(utf8(s));
  }

  private static byte[] gzip(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 60) + "…(" + s.length() + " chars)";
  }
}
