package io.modelguard.examples.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.modelguard.ReasonCode;
import io.modelguard.examples.issuer.DemoIssuer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code POST /demo/token}: mints a short-lived demo access token with the {@link DemoIssuer}.
 *
 * <pre>
 * {"subject":"alice","tier":"free"}                 → 200 {"access_token":"eyJ…","token_type":"Bearer",
 *                                                         "expires_in":300}
 * {"subject":"bob","tier":"pro","models":["iris"]}  → a pro token narrowed to iris
 * </pre>
 *
 * <p>Unguarded (anyone who can reach the demo may mint demo tokens) and registered only while the
 * demo issuer runs. The body is checked strictly: JSON ({@code 415} otherwise), at most {@value
 * #MAX_BODY_BYTES} bytes ({@code 413}), parseable without duplicate fields ({@code 400
 * input.malformed}), and exactly the fields {@code subject} (required), {@code tier} (required, a
 * tier of this demo) and {@code models} (optional, models of that tier) ({@code 422 input.invalid}
 * naming the field). The answer carries {@code Cache-Control: no-store}, as RFC 6749 requires of
 * token responses. Tokens are never logged. Thread-safe.
 */
public final class DemoTokenServlet extends HttpServlet {
  /** The path it is mapped to. */
  public static final String PATH = DemoIssuer.TOKEN_PATH;
  /** The largest request body accepted. */
  public static final int MAX_BODY_BYTES = 1024;

  private static final long serialVersionUID = 1L;
  private static final Set<String> FIELDS = Set.of("subject", "tier", "models");
  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(4)
              .maxNumberLength(32)
              .maxStringLength(MAX_BODY_BYTES)
              .build())
          .build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private final transient DemoIssuer issuer;

  /** Mints tokens with {@code issuer}. */
  public DemoTokenServlet(DemoIssuer issuer) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    // The header as sent: Jetty's getContentType() throws for a charset the JVM does not know.
    if (!isJson(request.getHeader("Content-Type"))) {
      Problems.send(response, ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, "Send the token request as application/json.");
      return;
    }
    Optional<JsonNode> parsed = JsonBodies.read(request, response, JSON, MAX_BODY_BYTES);
    if (parsed.isEmpty()) {
      return;
    }
    JsonNode root = parsed.get();
    String token;
    try {
      token = mint(root);
    } catch (IllegalArgumentException e) {
      Problems.send(response, ReasonCode.INPUT_INVALID, e.getMessage()); // DemoIssuer's messages are client-safe
      return;
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("access_token", token);
    answer.put("token_type", "Bearer");
    answer.put("expires_in", DemoIssuer.LIFETIME.toSeconds());
    byte[] out = JSON.writeValueAsBytes(answer);
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("Pragma", "no-cache");
    response.setContentLength(out.length);
    response.getOutputStream().write(out);
  }

  private String mint(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(
          "The body must be a JSON object such as {\"subject\":\"alice\",\"tier\":\"free\"}.");
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      if (!FIELDS.contains(names.next())) {
        throw new IllegalArgumentException("Only the fields 'subject', 'tier' and 'models' are accepted.");
      }
    }
    JsonNode subject = root.get("subject");
    if (subject == null || !subject.isTextual()) {
      throw new IllegalArgumentException("Field 'subject' is required, a string.");
    }
    JsonNode tier = root.get("tier");
    if (tier == null || !tier.isTextual()) {
      throw new IllegalArgumentException("Field 'tier' is required, one of: "
          + String.join(", ", issuer.tiers().keySet()) + ".");
    }
    List<String> models = new ArrayList<>();
    JsonNode listed = root.get("models");
    if (listed != null) {
      if (!listed.isArray() || listed.isEmpty()) {
        throw new IllegalArgumentException("Field 'models' must be a non-empty array of model ids (omit it for the "
            + "whole tier).");
      }
      for (JsonNode m : listed) {
        if (!m.isTextual()) {
          throw new IllegalArgumentException("Field 'models' must be a non-empty array of model ids (omit it for the "
              + "whole tier).");
        }
        models.add(m.asText());
      }
    }
    return issuer.mint(subject.asText(), tier.asText(), models);
  }

  private static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return type.equals("application/json");
  }
}
