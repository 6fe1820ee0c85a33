package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.quota.QuotaKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Whose state the extraction defence keeps a query under, driven through the real engine. */
class ExtractionClientKeyTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(bytes(32, 9));
  private static final String ANSWER = "{\"label\":1,\"probabilities\":[0.1,0.7,0.2]}";

  private final ExtractionDefenceTest.ManualClock clock = new ExtractionDefenceTest.ManualClock();
  private final ExtractionDefenceTest.ScriptedDetector detector = new ExtractionDefenceTest.ScriptedDetector();

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    RandomSource.seeded(seed).nextBytes(b);
    return b;
  }

  private ExtractionDefence defence() {
    return ExtractionDefenceTest.scripted(KEYS, clock, detector).build();
  }

  /** A request with headers, a remote address and a JSON body. */
  static final class Req implements InferenceRequest {
    final Map<String, List<String>> headers = new TreeMap<>();
    final String address;
    final byte[] body;

    Req(String address, String body) {
      this.address = address;
      this.body = body.getBytes(StandardCharsets.UTF_8);
    }

    Req header(String n, String v) {
      headers.computeIfAbsent(n.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(v);
      return this;
    }

    @Override public String method() { return "POST"; }
    @Override public String path() { return "/v1/models/digits/predict"; }
    @Override public Optional<String> header(String n) { return headers(n).stream().findFirst(); }
    @Override public List<String> headers(String n) { return headers.getOrDefault(n.toLowerCase(Locale.ROOT), List.of()); }
    @Override public Optional<String> remoteAddress() { return Optional.ofNullable(address); }
    @Override public Endpoint endpoint() { return Endpoint.of("digits", "default", 1); }
    @Override public byte[] body(int max) { return body; }
  }

  private static String query(double first) {
    return "{\"x\":[" + first + ",1,2]}";
  }

  /** One full round trip: check, then (if allowed) the output policies on a 200 answer. */
  private static GuardDecision call(ModelGuard guard, Req r) {
    GuardDecision d = guard.check(r);
    if (d.isAllowed()) {
      guard.onResponse(r, d, 200, ModelOutput.json(ANSWER));
    }
    return d;
  }

  @Test
  void aSubjectFlaggedInOneTenantLeavesTheSameSubjectOfAnotherTenantAlone() {
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(bytes(32, 5));
    InMemoryApiKeyStore store = new InMemoryApiKeyStore();
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(3), clock);
    // Two different tenants; each happens to name its service account "svc".
    IssuedApiKey attacker = issuer.issue(ApiKeyFormat.Environment.LIVE, "svc", "acme", "free", null);
    IssuedApiKey victim = issuer.issue(ApiKeyFormat.Environment.LIVE, "svc", "globex", "free", null);
    store.add(attacker.record());
    store.add(victim.record());

    ExtractionDefence defence = defence();
    QueryEncoder x = QueryEncoder.jsonNumbers("/x");
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher).build())
            .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy())
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), 4096)))
        .build();

    // The victim works normally.
    assertThat(call(guard, new Req("198.51.100.7", query(0.5)).header("X-API-Key", victim.key())).isAllowed()).isTrue();

    // The attacker (tenant acme) sends four queries that the detector flags.
    detector.flagging.addAll(List.of(10.0, 11.0, 12.0, 13.0));
    for (double q = 10; q <= 13; q++) {
      call(guard, new Req("203.0.113.9", query(q)).header("X-API-Key", attacker.key()));
    }

    // Tenant globex's client, from another address, with its own key: its own state, still clean.
    GuardDecision v = guard.check(new Req("198.51.100.7", query(0.6)).header("X-API-Key", victim.key()));
    assertThat(v.principal().get().tenant()).isEqualTo("globex");
    assertThat(v.isAllowed())
        .as("another tenant's client must not inherit acme's extraction risk (got %s)", v.reason())
        .isTrue();
  }

  @Test
  void anUnauthenticatedClientMovingWithinItsSlash64KeepsItsState() {
    ExtractionDefence defence = defence();
    QueryEncoder x = QueryEncoder.jsonNumbers("/x");
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false)
        .models("digits")
        .chain("default", c -> c
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), 4096)))
        .build();
    detector.flagging.addAll(List.of(10.0, 11.0, 12.0, 13.0, 14.0));

    String a1 = "2001:db8:1:2::1";
    for (double q = 10; q <= 13; q++) {
      call(guard, new Req(a1, query(q)));
    }
    assertThat(guard.check(new Req(a1, query(14))).reason()).contains(ReasonCode.EXTRACTION_BLOCKED);

    // The same subscriber (same /64, which the quota layer treats as one client) from its next address.
    String a2 = "2001:db8:1:2::2";
    assertThat(QuotaKey.forAddress(a1)).isEqualTo(QuotaKey.forAddress(a2));
    GuardDecision d = guard.check(new Req(a2, query(14)));
    assertThat(d.isAllowed())
        .as("a blocked client must not get a clean slate by moving to the next address of its /64")
        .isFalse();
  }
}
