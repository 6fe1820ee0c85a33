package io.modelguard.examples;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.quota.QuotaLimit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The demo's security configuration: tiers (name → models), API keys and the hosts {@code
 * image-classifier} may fetch image URLs from. Either the built-in demo ({@link #demo()}: tiers
 * {@code free} = digits + sentiment, {@code pro} = digits + iris + sentiment and {@code enterprise}
 * = all four models, with demo keys issued at start-up, no fetch allow-list) or a JSON file
 * ({@link #read}), for example:
 *
 * <pre>{@code
 * {
 *   "tiers": { "free": ["digits"], "pro": ["digits", "iris", "image-classifier"] },
 *   "keys": [
 *     { "subject": "alice", "tenant": "acme", "tier": "free" },
 *     { "key": "mg_test_…", "subject": "bob", "tenant": "globex", "tier": "pro",
 *       "expiresAt": "2030-01-01T00:00:00Z" },
 *     { "subject": "mallory", "tenant": "acme", "tier": "pro", "revoked": true }
 *   ],
 *   "allowFetchHosts": ["images.example.com", "127.0.0.1:8089"],
 *   "jwt": { "jwksUrl": "https://idp.example/jwks", "issuer": "https://idp.example/", "audience": "models" }
 * }
 * }</pre>
 *
 * <p>{@code jwt} holds the bearer-token settings of {@link JwtSettings} under their JSON names
 * ({@code issuer}, {@code audience}, {@code jwksUrl}, {@code publicKeyFile}, {@code tierClaim},
 * {@code tenantClaim}, {@code defaultTier}, {@code demoIssuer}); a command-line flag overrides the
 * same field. A relative {@code publicKeyFile} is resolved against the working directory, as the
 * flag's is.
 *
 * <p>A tier is either an array of model ids or an object {@code {"models": [...], "limits": [...]}}
 * whose {@code limits} (optional; see {@link QuotaSettings} for their JSON form) apply per tenant
 * and model. The built-in tiers carry {@link #demoTierLimits()}; a configured tier without limits
 * is not limited. The optional {@code quota} object ({@code redisUrl}, {@code failurePolicy},
 * {@code unauthenticated}) says where counts are kept; see {@link QuotaSettings}.
 *
 * <p>{@code allowFetchHosts} has the form of {@code --allow-fetch-host} ({@link
 * FetchAllowList#parse}); the entries of both are combined, and any entry turns the allow-list
 * on.
 *
 * <p>Parsing is strict: unknown fields, wrong JSON types (no coercion of {@code "true"} to a
 * boolean or {@code 1} to a string), duplicate fields and trailing content are errors, and so are
 * unknown tiers or models and malformed keys. Every error is one line naming the field, such as
 * {@code keys[1].tier: unknown tier 'gold' (known: free, pro)}, and never repeats a key. Immutable.
 */
public final class DemoConfig {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final int MAX_TEXT = 128;
  private static final long MAX_FILE_BYTES = 1 << 20;

  private static final ObjectMapper MAPPER = strictMapper();

  private final Map<String, Set<String>> tiers;
  private final List<KeyEntry> keys;
  private final boolean demoKeys;
  private final List<FetchAllowList.Entry> allowFetchHosts;
  private final JwtSettings jwt;
  private final Map<String, List<QuotaLimit>> tierLimits;
  private final QuotaSettings quota;

  private DemoConfig(Map<String, Set<String>> tiers, List<KeyEntry> keys, boolean demoKeys,
      List<FetchAllowList.Entry> allowFetchHosts, JwtSettings jwt, Map<String, List<QuotaLimit>> tierLimits,
      QuotaSettings quota) {
    Map<String, Set<String>> copy = new LinkedHashMap<>();
    tiers.forEach((name, models) -> copy.put(name, Collections.unmodifiableSet(new LinkedHashSet<>(models))));
    this.tiers = Collections.unmodifiableMap(copy);
    this.keys = List.copyOf(keys);
    this.demoKeys = demoKeys;
    this.allowFetchHosts = List.copyOf(allowFetchHosts);
    this.jwt = Objects.requireNonNull(jwt, "jwt");
    Map<String, List<QuotaLimit>> limits = new LinkedHashMap<>();
    tierLimits.forEach((name, l) -> limits.put(name, List.copyOf(l)));
    this.tierLimits = Collections.unmodifiableMap(limits);
    this.quota = Objects.requireNonNull(quota, "quota");
  }

  /**
   * One API key of the configuration.
   *
   * @param field where it was configured, for messages (such as {@code keys[2]})
   * @param key the plaintext key, or empty to have one generated (and printed) at start-up
   * @param subject the client the key authenticates as
   * @param tenant the client's tenant
   * @param tier the client's tier (one of the configured tiers)
   * @param expiresAt when the key stops working, or empty for never
   * @param revoked whether the key is revoked
   */
  public record KeyEntry(
      String field, Optional<String> key, String subject, String tenant, String tier,
      Optional<Instant> expiresAt, boolean revoked) {

    /** Checks that no component is null. */
    public KeyEntry {
      Objects.requireNonNull(field, "field");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(subject, "subject");
      Objects.requireNonNull(tenant, "tenant");
      Objects.requireNonNull(tier, "tier");
      Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** Describes the entry without the plaintext key. */
    @Override
    public String toString() {
      return "KeyEntry[" + field + ", subject=" + subject + ", tenant=" + tenant + ", tier=" + tier
          + ", key=" + (key.isPresent() ? "(configured)" : "(generated)") + ", expiresAt=" + expiresAt.orElse(null)
          + ", revoked=" + revoked + "]";
    }
  }

  /**
   * The tiers of the built-in demo: {@code free} (digits, sentiment), {@code pro} (digits, iris,
   * sentiment) and {@code enterprise} (digits, iris, image-classifier, sentiment). Tier {@code free}
   * also sees only the top three probabilities of an answer (see {@link DemoSecurity}).
   */
  public static Map<String, Set<String>> demoTiers() {
    Map<String, Set<String>> tiers = new LinkedHashMap<>();
    tiers.put("free", new LinkedHashSet<>(List.of("digits", "sentiment")));
    tiers.put("pro", new LinkedHashSet<>(List.of("digits", "iris", "sentiment")));
    tiers.put("enterprise", new LinkedHashSet<>(List.of("digits", "iris", "image-classifier", "sentiment")));
    return tiers;
  }

  /**
   * The built-in demo: {@link #demoTiers()}, demo keys issued (and printed) at start-up, and no
   * fetch allow-list.
   */
  public static DemoConfig demo() {
    return new DemoConfig(demoTiers(), List.of(), true, List.of(), JwtSettings.none(), demoTierLimits(),
        QuotaSettings.none());
  }

  /**
   * The limits of the built-in tiers, per tenant and model: {@code free} a burst of 5 (refilled at
   * 5 per second), 60 per minute and 1,000 per day; {@code pro} a burst of 20 (20 per second), 600
   * per minute and 100,000 per day; {@code enterprise} a burst of 100 (100 per second), 6,000 per
   * minute and 5,000,000 per day. Bursts are token buckets, minutes and days sliding windows.
   */
  public static Map<String, List<QuotaLimit>> demoTierLimits() {
    Map<String, List<QuotaLimit>> limits = new LinkedHashMap<>();
    limits.put("free", List.of(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("minute", 60, Duration.ofMinutes(1)),
        QuotaLimit.slidingWindow("daily", 1_000, Duration.ofDays(1))));
    limits.put("pro", List.of(QuotaLimit.tokenBucket("burst", 20, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("minute", 600, Duration.ofMinutes(1)),
        QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1))));
    limits.put("enterprise", List.of(QuotaLimit.tokenBucket("burst", 100, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("minute", 6_000, Duration.ofMinutes(1)),
        QuotaLimit.slidingWindow("daily", 5_000_000, Duration.ofDays(1))));
    return limits;
  }

  /**
   * Reads and validates a configuration file; {@code models} are the model ids tiers may name.
   *
   * @throws StartupException with one line naming the file and the field at fault
   */
  public static DemoConfig read(Path file, Set<String> models) throws StartupException {
    byte[] json;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new StartupException("config " + file + ": larger than " + MAX_FILE_BYTES + " bytes");
      }
      json = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new StartupException("config " + file + ": no such file", e);
    } catch (IOException e) {
      throw new StartupException("config " + file + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
    }
    return parse(json, "config " + file, models);
  }

  /**
   * Parses and validates configuration JSON; {@code source} prefixes every message.
   *
   * @throws StartupException with one line naming {@code source} and the field at fault
   */
  public static DemoConfig parse(byte[] json, String source, Set<String> models) throws StartupException {
    RawConfig raw;
    try {
      raw = MAPPER.readValue(json, RawConfig.class);
    } catch (JsonProcessingException e) {
      throw new StartupException(source + ": " + describe(e), e);
    } catch (IOException e) {
      throw new StartupException(source + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
    }
    if (raw == null) {
      throw new StartupException(source + ": the top level must be a JSON object, not null");
    }
    try {
      return validate(raw, models, source);
    } catch (IllegalArgumentException e) {
      throw new StartupException(source + ": " + e.getMessage(), e);
    }
  }

  private static DemoConfig validate(RawConfig raw, Set<String> models, String source) {
    Map<String, Set<String>> tiers = new LinkedHashMap<>();
    Map<String, List<QuotaLimit>> tierLimits = new LinkedHashMap<>();
    if (raw.tiers() == null) {
      tiers.putAll(demoTiers());
      tierLimits.putAll(demoTierLimits());
    } else {
      for (Map.Entry<String, JsonNode> tier : raw.tiers().entrySet()) {
        String name = tier.getKey();
        if (!NAME.matcher(name).matches()) {
          throw new IllegalArgumentException("tiers: '" + printable(name)
              + "' is not a valid tier name (1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        }
        String field = "tiers." + name;
        JsonNode value = tier.getValue();
        JsonNode listed = value;
        String modelsField = field;
        if (value != null && value.isObject()) {
          for (Iterator<String> it = value.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("models") && !f.equals("limits")) {
              throw new IllegalArgumentException(field + "." + printable(f) + ": unknown field (allowed: models, limits)");
            }
          }
          modelsField = field + ".models";
          listed = value.get("models");
          if (listed == null) {
            throw new IllegalArgumentException(modelsField + ": required, an array of model ids");
          }
          if (value.has("limits")) {
            tierLimits.put(name, QuotaSettings.parseLimits(value.get("limits"), field + ".limits"));
          }
        }
        if (listed == null || !listed.isArray()) {
          throw new IllegalArgumentException(modelsField + ": wrong type, expected an array of model ids"
              + (modelsField.equals(field) ? " or an object with models and limits" : ""));
        }
        Set<String> allowed = new LinkedHashSet<>();
        for (int i = 0; i < listed.size(); i++) {
          JsonNode m = listed.get(i);
          String model = m.isTextual() ? m.asText() : null;
          if (model == null || !models.contains(model)) {
            throw new IllegalArgumentException(modelsField + "[" + i + "]: unknown model "
                + (model == null ? "(not a string)" : "'" + printable(model) + "'") + " (known: " + join(models) + ")");
          }
          allowed.add(model);
        }
        tiers.put(name, allowed);
      }
      if (tiers.isEmpty()) {
        // Nothing could be granted, and the demo issuer would have no tier to mint tokens for.
        throw new IllegalArgumentException("tiers: at least one tier is needed (leave the field out for the demo's tiers)");
      }
    }
    List<KeyEntry> keys = new ArrayList<>();
    Map<String, String> keyIds = new HashMap<>();
    List<RawKey> rawKeys = raw.keys() == null ? List.of() : raw.keys();
    for (int i = 0; i < rawKeys.size(); i++) {
      String field = "keys[" + i + "]";
      RawKey k = rawKeys.get(i);
      if (k == null) {
        throw new IllegalArgumentException(field + ": must be an object, not null");
      }
      Optional<String> key = Optional.ofNullable(k.key());
      if (key.isPresent()) {
        Optional<ApiKeyFormat.Parsed> parsed = ApiKeyFormat.parse(key.get());
        if (parsed.isEmpty()) {
          // Never echo the value: it may be a real key with a typo.
          throw new IllegalArgumentException(field + ".key: not a well-formed ModelGuard API key (mg_live_ or "
              + "mg_test_ prefix, " + ApiKeyFormat.LENGTH + " characters, valid checksum); omit the field to "
              + "have a key generated");
        }
        String earlier = keyIds.putIfAbsent(parsed.get().keyId(), field);
        if (earlier != null) {
          throw new IllegalArgumentException(field + ".key: the same key id as " + earlier + ".key");
        }
      }
      String subject = text(k.subject(), field + ".subject");
      String tenant = text(k.tenant(), field + ".tenant");
      if (JwtAuthenticator.isReservedTenant(tenant)) {
        throw new IllegalArgumentException(field + ".tenant: must not begin with '" + JwtAuthenticator.SUBJECT_TENANT_PREFIX
            + "' in any case, which names the tenants of bearer tokens without a tenant claim");
      }
      if (tenant.equals(DemoMetrics.OTHER) || tenant.equals(DemoMetrics.NONE)) {
        // The meters' tenant tag would count it together with unknown tenants, or unauthenticated requests.
        throw new IllegalArgumentException(field + ".tenant: '" + tenant + "' is reserved: the meters tag other tenants "
            + "'" + DemoMetrics.OTHER + "' and requests without one '" + DemoMetrics.NONE + "'");
      }
      String tier = text(k.tier(), field + ".tier");
      if (!tiers.containsKey(tier)) {
        throw new IllegalArgumentException(field + ".tier: unknown tier '" + printable(tier) + "' (known: "
            + join(tiers.keySet()) + ")");
      }
      Optional<Instant> expiresAt = Optional.empty();
      if (k.expiresAt() != null) {
        expiresAt = Optional.of(instant(k.expiresAt(), field + ".expiresAt"));
      }
      keys.add(new KeyEntry(field, key, subject, tenant, tier, expiresAt, Boolean.TRUE.equals(k.revoked())));
    }
    List<FetchAllowList.Entry> hosts = new ArrayList<>();
    List<String> rawHosts = raw.allowFetchHosts() == null ? List.of() : raw.allowFetchHosts();
    for (int i = 0; i < rawHosts.size(); i++) {
      String field = "allowFetchHosts[" + i + "]";
      if (rawHosts.get(i) == null) {
        throw new IllegalArgumentException(field + ": must be a string HOST or HOST:PORT, not null");
      }
      try {
        hosts.add(FetchAllowList.parse(rawHosts.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
      }
    }
    return new DemoConfig(tiers, keys, false, hosts, jwt(raw.jwt(), source), tierLimits, quota(raw.quota()));
  }

  /** The {@code quota} object, field by field; the command line's flags override it. */
  private static QuotaSettings quota(RawQuota raw) {
    QuotaSettings settings = QuotaSettings.none();
    if (raw == null) {
      return settings;
    }
    if (raw.redisUrl() != null) {
      try {
        settings = settings.withRedisUrl(raw.redisUrl());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("quota.redisUrl: " + e.getMessage(), e);
      }
    }
    if (raw.failurePolicy() != null) {
      try {
        settings = settings.withFailurePolicy(raw.failurePolicy());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("quota.failurePolicy: " + e.getMessage(), e);
      }
    }
    if (raw.unauthenticated() != null) {
      settings = settings.withUnauthenticated(
          QuotaSettings.parseLimits(raw.unauthenticated(), "quota.unauthenticated"));
    }
    return settings;
  }

  /**
   * The {@code jwt} object as settings whose sources read {@code <source>: jwt.<field>}. Only
   * field by field here; the combination (with the command line's flags) is checked by {@link
   * JwtSettings#validate}.
   */
  private static JwtSettings jwt(RawJwt raw, String source) {
    JwtSettings settings = JwtSettings.none();
    if (raw == null) {
      return settings;
    }
    String[] texts = {raw.issuer(), raw.audience(), raw.jwksUrl(), raw.publicKeyFile(), raw.tierClaim(),
        raw.tenantClaim(), raw.defaultTier()};
    JwtSettings.Field[] fields = {JwtSettings.Field.ISSUER, JwtSettings.Field.AUDIENCE, JwtSettings.Field.JWKS_URL,
        JwtSettings.Field.PUBLIC_KEY_FILE, JwtSettings.Field.TIER_CLAIM, JwtSettings.Field.TENANT_CLAIM,
        JwtSettings.Field.DEFAULT_TIER};
    for (int i = 0; i < fields.length; i++) {
      if (texts[i] != null) {
        String field = "jwt." + fields[i].jsonName();
        try {
          settings = settings.with(fields[i], texts[i], source + ": " + field);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
      }
    }
    if (raw.demoIssuer() != null) {
      settings = settings.withDemoIssuer(raw.demoIssuer(), source + ": jwt." + JwtSettings.Field.DEMO_ISSUER.jsonName());
    }
    return settings;
  }

  private static String text(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + ": required, a non-blank string");
    }
    if (value.length() > MAX_TEXT || value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(field + ": at most " + MAX_TEXT + " characters, no control characters");
    }
    return value;
  }

  private static Instant instant(String value, String field) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(value).toInstant();
      } catch (DateTimeParseException e2) {
        throw new IllegalArgumentException(field + ": not an ISO-8601 instant such as 2030-01-01T00:00:00Z");
      }
    }
  }

  /** One line saying what is wrong and where, without Jackson's internals or the offending value. */
  static String describe(JsonProcessingException e) {
    String path = e instanceof JsonMappingException ? path((JsonMappingException) e) : "";
    String where = path.isEmpty() ? "" : path + ": ";
    if (e instanceof UnrecognizedPropertyException) {
      UnrecognizedPropertyException u = (UnrecognizedPropertyException) e;
      List<String> known = new ArrayList<>();
      Collection<Object> ids = u.getKnownPropertyIds();
      if (ids != null) {
        ids.forEach(id -> known.add(String.valueOf(id)));
      }
      return where + "unknown field" + (known.isEmpty() ? "" : " (allowed: " + String.join(", ", known) + ")");
    }
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (original.startsWith("Duplicate field")) {
      return where + "a field appears twice (" + original.replaceAll("[\\r\\n].*", "") + ")";
    }
    if (e instanceof MismatchedInputException) {
      MismatchedInputException m = (MismatchedInputException) e;
      if (path.isEmpty()) {
        if (original.startsWith("No content")) {
          return "the file is empty; expected a JSON object";
        }
        if (original.startsWith("Trailing token")) {
          return "unexpected content after the top-level JSON object";
        }
        return "the top level must be a JSON object";
      }
      return where + "wrong type, expected " + expected(m.getTargetType());
    }
    if (!(e instanceof JsonMappingException) || e.getCause() instanceof JsonProcessingException) {
      JsonLocation at = e.getLocation();
      return where + "not valid JSON" + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
    }
    return where + "invalid value";
  }

  private static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(printable(ref.getFieldName()));
      } else if (ref.getIndex() >= 0) {
        b.append('[').append(ref.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String expected(Class<?> type) {
    if (type == null) {
      return "another JSON type";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (Collection.class.isAssignableFrom(type)) {
      return "an array";
    }
    return "an object";
  }

  private static String printable(String s) {
    return DemoText.printable(s, 64);
  }

  private static String join(Collection<String> names) {
    return String.join(", ", new TreeSet<>(names));
  }

  private static ObjectMapper strictMapper() {
    JsonMapper mapper = JsonMapper.builder()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .build();
    // No silent conversions: "true" is not a boolean, 1 is not a string, "" is not null.
    mapper.coercionConfigDefaults()
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    return mapper;
  }

  /** The tiers by name, each with the models it grants. */
  public Map<String, Set<String>> tiers() {
    return tiers;
  }

  /** The configured keys, in file order (empty for the built-in demo). */
  public List<KeyEntry> keys() {
    return keys;
  }

  /** The {@code allowFetchHosts} entries, in file order (empty: no allow-list from the file). */
  public List<FetchAllowList.Entry> allowFetchHosts() {
    return allowFetchHosts;
  }

  /**
   * The {@code jwt} object's settings (none for the built-in demo); the command line's flags
   * override them field by field.
   */
  public JwtSettings jwt() {
    return jwt;
  }

  /** The quota limits of each tier that has any (per tenant and model); a tier without limits is not limited. */
  public Map<String, List<QuotaLimit>> tierLimits() {
    return tierLimits;
  }

  /** The {@code quota} object's settings; the command line's flags override them field by field. */
  public QuotaSettings quota() {
    return quota;
  }

  /** Whether this is the built-in demo, whose keys are issued at start-up. */
  public boolean demoKeys() {
    return demoKeys;
  }

  @Override
  public String toString() {
    return "DemoConfig[tiers=" + tiers + ", keys=" + keys + ", demoKeys=" + demoKeys
        + ", allowFetchHosts=" + allowFetchHosts + ", jwt=" + jwt + ", tierLimits=" + tierLimits
        + ", quota=" + quota + "]";
  }

  /** The file's shape, bound by Jackson; {@link #validate} turns it into a {@link DemoConfig}. */
  record RawConfig(Map<String, JsonNode> tiers, List<RawKey> keys, List<String> allowFetchHosts, RawJwt jwt,
      RawQuota quota) {}

  /** The {@code quota} object as written in the file. */
  record RawQuota(String redisUrl, String failurePolicy, JsonNode unauthenticated) {}

  /** The {@code jwt} object as written in the file. */
  record RawJwt(String issuer, String audience, String jwksUrl, String publicKeyFile, String tierClaim,
      String tenantClaim, String defaultTier, Boolean demoIssuer) {}

  /** One key as written in the file. */
  record RawKey(String key, String subject, String tenant, String tier, String expiresAt, Boolean revoked) {
    /** Never prints the key. */
    @Override
    public String toString() {
      return "RawKey[subject=" + subject + ", tier=" + tier + "]";
    }
  }
}
