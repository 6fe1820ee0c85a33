package io.modelguard.examples;

import io.modelguard.examples.issuer.DemoIssuer;
import io.modelguard.examples.model.ModelCatalog;
import java.io.PrintStream;
import java.net.URI;
import io.modelguard.quota.QuotaLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * Prints the start-up banner on stdout: where the server listens, the models, where image URLs may
 * be fetched from, the API keys generated at start-up, the bearer-token issuers trusted, and
 * ready-to-paste curl commands (with the demo issuer, how to get a token and use it). This is
 * the one place plaintext keys are shown; they never go through the logging system, so log files
 * and log shippers never see them.
 */
final class KeyBanner {
  private static final String RULE = "=".repeat(100);

  private KeyBanner() {}

  static void print(PrintStream out, URI base, List<DemoKey> keys, ModelCatalog models, boolean demo,
      FetchAllowList fetchHosts, BearerTokens bearer, List<String> quotaLines) {
    String url = base.toString();
    StringBuilder b = new StringBuilder();
    String nl = System.lineSeparator();
    b.append(nl).append(RULE).append(nl);
    b.append(" ModelGuard demo listening on ").append(url).append(nl);
    b.append(" Models: ").append(String.join(", ", models.ids())).append(nl);
    b.append(" Image URLs of ").append(ModelCatalog.IMAGE_CLASSIFIER).append(" are fetched from ")
        .append(fetchHosts.describe()).append(nl);
    quotaLines.forEach(line -> b.append(' ').append(line).append(nl));
    b.append(nl);
    if (keys.isEmpty()) {
      b.append(bearer.policy().isPresent()
          ? " No API keys are configured: only bearer tokens are accepted."
          : " No API keys are configured: every guarded request will get 401.").append(nl);
    } else {
      b.append(demo
          ? " Demo API keys (mg_test_ keys, valid for this run only; shown here once, never logged):"
          : " API keys from the configuration (generated ones are shown here once, never logged):").append(nl);
      int labelWidth = keys.stream().mapToInt(k -> k.label().length()).max().orElse(0);
      int tierWidth = keys.stream().mapToInt(k -> k.tier().length()).max().orElse(0) + 5;
      String row = "   %-" + labelWidth + "s  %-" + tierWidth + "s  %-8s %s%n";
      for (DemoKey k : keys) {
        b.append(String.format(Locale.ROOT, row, k.label(), "tier " + k.tier(),
            k.status().name().toLowerCase(Locale.ROOT), k.key().orElse("(key from the configuration file)")));
      }
    }
    b.append(nl).append(" Send the key in the X-API-Key header. Try:").append(nl);
    String digits = body(models, ModelCatalog.DIGITS);
    String iris = body(models, ModelCatalog.IRIS);
    String json = " -H 'Content-Type: application/json'";
    Optional<String> free = active(keys, "free", demo);
    Optional<String> pro = active(keys, "pro", demo);
    String someKey = free.or(() -> pro).orElse("$MODELGUARD_KEY");
    b.append(nl).append("   # health (no key needed)").append(nl);
    b.append("   curl -s ").append(url).append("/healthz").append(nl);
    b.append(nl).append("   # the models this key may use").append(nl);
    b.append("   curl -s ").append(url).append("/v1/models -H 'X-API-Key: ").append(someKey).append("'").append(nl);
    b.append(nl).append("   # predict a digit (200)").append(nl);
    b.append("   curl -s ").append(url).append("/v1/models/digits/predict -H 'X-API-Key: ").append(someKey).append("'")
        .append(json).append(" -d '").append(digits).append("'").append(nl);
    b.append(nl).append("   # the sentiment of a sentence (200)").append(nl);
    b.append("   curl -s ").append(url).append("/v1/models/").append(ModelCatalog.SENTIMENT)
        .append("/predict -H 'X-API-Key: ").append(someKey).append("'").append(json)
        .append(" -d '{\"").append(ModelCatalog.TEXT_FIELD).append("\":\"The staff were friendly and helpful\"}'")
        .append(nl);
    String imageKey = demo ? active(keys, "enterprise", demo).orElse(someKey) : someKey;
    b.append(nl).append("   # classify the digit in an image fetched from a URL (PNG, JPEG or GIF; ")
        .append(demo ? "enterprise tier; " : "").append("200 if the URL's host is allowed and serves the image)").append(nl);
    b.append("   curl -s ").append(url).append("/v1/models/").append(ModelCatalog.IMAGE_CLASSIFIER)
        .append("/predict -H 'X-API-Key: ").append(imageKey).append("'").append(json).append(" -d '")
        .append(imageBody(exampleImageUrl(fetchHosts))).append("'").append(nl);
    b.append(nl).append("   # an internal address is refused before anything connects (422 input.url_blocked)").append(nl);
    b.append("   curl -si ").append(url).append("/v1/models/").append(ModelCatalog.IMAGE_CLASSIFIER)
        .append("/predict -H 'X-API-Key: ").append(imageKey).append("'").append(json).append(" -d '")
        .append(imageBody("http://169.254.169.254/latest/meta-data/")).append("'").append(nl);
    if (demo) {
      b.append(nl).append("   # the free tier may not use iris (403 authz.model_forbidden); the pro key may (200)")
          .append(nl);
      b.append("   curl -si ").append(url).append("/v1/models/iris/predict -H 'X-API-Key: ").append(free.orElse(someKey))
          .append("'").append(json).append(" -d '").append(iris).append("'").append(nl);
      b.append("   curl -s ").append(url).append("/v1/models/iris/predict -H 'X-API-Key: ").append(pro.orElse(someKey))
          .append("'").append(json).append(" -d '").append(iris).append("'").append(nl);
      b.append(nl).append("   # no key (401 auth.missing_credentials); revoked and expired keys (401 auth.invalid_api_key)")
          .append(nl);
      b.append("   curl -si ").append(url).append("/v1/models/digits/predict").append(json).append(" -d '")
          .append(digits).append("'").append(nl);
      for (DemoKey k : keys) {
        if (k.status() != DemoKey.Status.ACTIVE && k.key().isPresent()) {
          b.append("   curl -si ").append(url).append("/v1/models/digits/predict -H 'X-API-Key: ")
              .append(k.key().get()).append("'").append(json).append(" -d '").append(digits).append("'").append(nl);
        }
      }
    }
    bearerTokens(b, url, bearer, digits, iris, json);
    b.append(RULE).append(nl);
    out.print(b);
    out.flush();
  }

  /** The banner's quota lines: each tier's limits, the unauthenticated limit, where counts are kept. */
  static List<String> quotaLines(Map<String, List<QuotaLimit>> tierLimits, List<QuotaLimit> unauthenticated,
      String store) {
    List<String> lines = new ArrayList<>();
    tierLimits.forEach((tier, limits) -> lines.add("Quota of tier " + tier + " (per tenant and model): "
        + limits.stream().map(KeyBanner::describe).collect(Collectors.joining(", "))));
    lines.add("Unauthenticated requests per client address: "
        + unauthenticated.stream().map(KeyBanner::describe).collect(Collectors.joining(", ")));
    lines.add("Quota counts are kept " + store);
    return lines;
  }

  private static String describe(QuotaLimit l) {
    return l.name() + " " + l.quota() + "/" + window(l.windowSeconds())
        + (l.algorithm() == QuotaLimit.Algorithm.SLIDING_WINDOW ? " (sliding)" : "");
  }

  private static String window(long seconds) {
    if (seconds == 1) {
      return "s";
    }
    if (seconds == 60) {
      return "min";
    }
    if (seconds == 3600) {
      return "h";
    }
    if (seconds == 86_400) {
      return "day";
    }
    return seconds + "s";
  }

  /** What bearer tokens are trusted and, with the demo issuer, how to get one and use it. */
  private static void bearerTokens(StringBuilder b, String url, BearerTokens bearer, String digits, String iris,
      String json) {
    String nl = System.lineSeparator();
    b.append(nl);
    if (bearer.summary().isEmpty()) {
      b.append(" Bearer tokens: none trusted (--no-demo-issuer and no --jwks-url/--jwt-public-key).").append(nl);
      return;
    }
    b.append(" Bearer tokens (Authorization: Bearer ...) are accepted too; send one credential, not both:").append(nl);
    bearer.summary().forEach(line -> b.append("   ").append(line).append(nl));
    Optional<DemoIssuer> issuer = bearer.demoIssuer();
    if (issuer.isEmpty()) {
      return;
    }
    String tier = issuer.get().tiers().containsKey("free") ? "free" : issuer.get().tiers().keySet().iterator().next();
    b.append(nl).append("   # a demo token for tier ").append(tier).append(" (valid ")
        .append(DemoIssuer.LIFETIME.toMinutes()).append(" minutes), then digits with it (200)")
        .append(issuer.get().tiers().get(tier).contains(ModelCatalog.IRIS) ? "" : " and iris (403)").append(nl);
    b.append("   TOKEN=$(curl -s ").append(url).append(DemoIssuer.TOKEN_PATH).append(json)
        .append(" -d '{\"subject\":\"alice\",\"tier\":\"").append(tier).append("\"}'")
        .append(" | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')").append(nl);
    b.append("   curl -s ").append(url).append("/v1/models/digits/predict -H \"Authorization: Bearer $TOKEN\"")
        .append(json).append(" -d '").append(digits).append("'").append(nl);
    if (!issuer.get().tiers().get(tier).contains(ModelCatalog.IRIS)) {
      b.append("   curl -si ").append(url).append("/v1/models/iris/predict -H \"Authorization: Bearer $TOKEN\"")
          .append(json).append(" -d '").append(iris).append("'").append(nl);
    }
  }

  /** A URL on the first allowed host, or a placeholder when any public host is allowed. */
  static String exampleImageUrl(FetchAllowList fetchHosts) {
    if (!fetchHosts.restricted()) {
      return "https://images.example.com/digit.png";
    }
    FetchAllowList.Entry first = fetchHosts.entries().get(0);
    String host = first.host().startsWith("*.") ? "images" + first.host().substring(1) : first.host();
    if (first.port().isEmpty() || first.port().getAsInt() == 443) {
      return "https://" + host + "/digit.png";
    }
    return "http://" + host + (first.port().getAsInt() == 80 ? "" : ":" + first.port().getAsInt()) + "/digit.png";
  }

  private static String imageBody(String imageUrl) {
    return "{\"" + ModelCatalog.IMAGE_URL_FIELD + "\":\"" + imageUrl + "\"}";
  }

  private static Optional<String> active(List<DemoKey> keys, String label, boolean demo) {
    return keys.stream()
        .filter(k -> k.status() == DemoKey.Status.ACTIVE && k.key().isPresent())
        .filter(k -> !demo || k.label().equals(label))
        .map(k -> k.key().get())
        .findFirst();
  }

  private static String body(ModelCatalog models, String id) {
    return models.get(id).map(m -> {
      StringJoiner numbers = new StringJoiner(",", "[", "]");
      for (double v : m.example()) {
        numbers.add(v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v));
      }
      return "{\"" + m.input().field() + "\":" + numbers + "}";
    }).orElse("{}");
  }
}
