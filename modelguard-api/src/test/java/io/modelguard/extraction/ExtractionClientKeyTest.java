package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.MutableClock;
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
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.quota.QuotaKey;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Whose state the extraction defence keeps a query under, driven through the real engine. */
class ExtractionClientKeyTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(bytes(32, 9));
  private static final String ANSWER = "{\"label\":1,\"probabilities\":[0.1,0.7,0.2]}";

  private final MutableClock clock = MutableClock.standard();
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
    ModelGuard guard = unauthenticatedGuardFlaggingTenToFourteen();

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

  @Test
  void anUnauthenticatedClientTunnelledOverIpv4IsKeyedAsItsIpv4Host() throws Exception {
    ModelGuard guard = unauthenticatedGuardFlaggingTenToFourteen();

    // Teredo (server 192.0.2.45, flags 0x8000, port 40000): the client's public IPv4 address inverted
    // in the last 32 bits; both clients share the server's /64.
    String teredoAttacker = "2001:0:c000:22d:8000:63bf:34ff:8efa"; // 203.0.113.5
    String teredoNeighbour = "2001:0:c000:22d:8000:63bf:39cc:9bf8"; // 198.51.100.7
    assertThat(InetAddress.getByName(teredoAttacker)).isInstanceOf(Inet6Address.class);
    for (double q = 10; q <= 13; q++) {
      call(guard, new Req(teredoAttacker, query(q)));
    }
    assertThat(guard.check(new Req(teredoAttacker, query(14))).reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(guard.check(new Req(teredoNeighbour, query(14))).isAllowed())
        .as("another Teredo client of the same server is not the blocked one").isTrue();
    // The same host over 6to4, on any /64 of its site, or over plain IPv4: still the blocked client.
    for (String same : List.of("2002:cb00:7105:1::1", "2002:cb00:7105:ffff::9", "203.0.113.5")) {
      assertThat(guard.check(new Req(same, query(14))).reason()).as(same).contains(ReasonCode.EXTRACTION_BLOCKED);
    }
  }

  /** Twenty API keys of one tenant, each sending one slight variation of a single input. */
  private static final class KeyFarm {
    final List<ExtractionDetectionEvent> events = new CopyOnWriteArrayList<>();
    final List<IssuedApiKey> keys = new ArrayList<>();
    final ExtractionDefence defence;
    final ModelGuard guard;

    KeyFarm(MutableClock clock, ClientScope scope, Perturbation tierNoise) {
      ApiKeyHasher hasher = ApiKeyHasher.withPepper(bytes(32, 5));
      InMemoryApiKeyStore store = new InMemoryApiKeyStore();
      ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(3), clock);
      for (int i = 0; i < 20; i++) {
        IssuedApiKey key = issuer.issue(ApiKeyFormat.Environment.LIVE, "key-" + i, "acme", "free", null);
        store.add(key.record());
        keys.add(key);
      }
      // A real detector with a history: each query shares all but one window with the others.
      defence = ExtractionDefence.builder(KEYS, 3).clock(clock)
          .detector(HashingDetector.of(1.0, 4, 8, 6, 100), 1) // 19 flags: MISINFORM, short of THROTTLE
          .clientScope(scope)
          .tierPerturbation("free", tierNoise)
          .build();
      QueryEncoder x = QueryEncoder.jsonNumbers("/x");
      guard = ModelGuard.builder().clock(clock).auditLog(false)
          .listener((GuardEvent e) -> {
            if (e instanceof ExtractionDetectionEvent d) {
              events.add(d);
            }
          })
          .models("digits")
          .tier(Tier.builder("free").models("digits").build())
          .chain("default", c -> c
              .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher).build())
              .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy())
              .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
              .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), 4096))
              .output(OutputPhase.PERTURB, "extraction-perturb", defence.perturbPolicy(x, PredictionCodec.standard(), 4096)))
          .build();
    }

    /** Each key sends the base input with its last feature moved by its index. */
    void attack() {
      for (int i = 0; i < keys.size(); i++) {
        assertThat(call(guard, new Req("203.0.113.9", variation(i)).header("X-API-Key", keys.get(i).key())).isAllowed()).isTrue();
      }
    }

    static String variation(int i) {
      double[] v = {3, 9, 1, 14, 6, 2, 11, 7, 0, 5, 13, 8, 4, 12, 10, 20 + i};
      return "{\"x\":" + Arrays.toString(v) + "}";
    }

    /** An input of the same length, unlike the variations. */
    static String unrelated() {
      return "{\"x\":[15,15,0,0,15,15,0,0,15,15,0,0,15,15,0,0]}";
    }

    /** The answer the chain returns for {@code key}'s request. */
    String answer(IssuedApiKey key, String body) {
      Req r = new Req("203.0.113.9", body).header("X-API-Key", key.key());
      GuardDecision d = guard.check(r);
      assertThat(d.isAllowed()).isTrue();
      return new String(guard.onResponse(r, d, 200, ModelOutput.json(ANSWER)).body(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void anExtractionSpreadOverManyKeysOfOneTenantIsMissedPerPrincipal() {
    KeyFarm farm = new KeyFarm(clock, ClientScope.PRINCIPAL, Perturbation.none());
    farm.attack();
    // Each key's history holds one query: nothing to compare it with, so nothing is flagged.
    assertThat(farm.events).isEmpty();
    assertThat(farm.defence.level("p:acme:key-7")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(farm.answer(farm.keys.get(0), KeyFarm.unrelated())).isEqualTo(ANSWER);
  }

  @Test
  void tenantScopeSeesAnExtractionSpreadOverManyKeysOfOneTenantAsOne() {
    KeyFarm farm = new KeyFarm(clock, ClientScope.TENANT, Perturbation.none());
    farm.attack();

    // From the second key on, each variation matches the tenant's earlier ones.
    assertThat(farm.events).hasSize(19);
    for (int i = 0; i < farm.events.size(); i++) {
      ExtractionDetectionEvent e = farm.events.get(i);
      assertThat(e.client()).isEqualTo("t:acme");
      assertThat(e.tenant()).isEqualTo("acme");
      assertThat(e.subject()).as("the event names the key that sent the flagged query").isEqualTo("key-" + (i + 1));
      assertThat(e.detectors()).containsExactly("hashing");
      assertThat(e.query()).isEqualTo(i + 2);
    }
    assertThat(farm.events.get(0).previousLevel()).isEqualTo(RiskLevel.OBSERVE);
    assertThat(farm.events.get(0).escalated()).isTrue();

    // The level is the tenant's: the first key, none of whose queries was flagged, is answered at it.
    assertThat(farm.defence.level("t:acme")).isEqualTo(RiskLevel.MISINFORM);
    assertThat(farm.answer(farm.keys.get(0), KeyFarm.unrelated())).isNotEqualTo(ANSWER);
  }

  @Test
  void tenantScopeKeysTheNoiseByTenantSoItsKeysCannotAverageIt() {
    KeyFarm perKey = new KeyFarm(clock, ClientScope.PRINCIPAL, Perturbation.gaussianNoise(0.2));
    String body = KeyFarm.variation(0);
    assertThat(perKey.answer(perKey.keys.get(0), body))
        .as("per principal, each key draws its own noise for one input")
        .isNotEqualTo(perKey.answer(perKey.keys.get(1), body));

    KeyFarm perTenant = new KeyFarm(clock, ClientScope.TENANT, Perturbation.gaussianNoise(0.2));
    String first = perTenant.answer(perTenant.keys.get(0), body);
    assertThat(first).isNotEqualTo(ANSWER);
    for (int i = 1; i < 5; i++) {
      assertThat(perTenant.answer(perTenant.keys.get(i), body))
          .as("every key of the tenant gets the tenant's answer, so averaging over keys gains nothing")
          .isEqualTo(first);
    }
  }

  @Test
  void unauthenticatedRequestsAreKeyedByAddressInEitherScope() {
    Req r = new Req("2001:db8:1:2::1", query(1));
    assertThat(ExtractionDefence.clientOf(r, Optional.empty(), ClientScope.TENANT))
        .isEqualTo(ExtractionDefence.clientOf(r, Optional.empty(), ClientScope.PRINCIPAL))
        .isEqualTo(QuotaKey.forAddress("2001:db8:1:2::1").partition());
  }

  /** A guard with the extraction defence alone, whose detector flags queries 10 to 14. */
  private ModelGuard unauthenticatedGuardFlaggingTenToFourteen() {
    ExtractionDefence defence = defence();
    QueryEncoder x = QueryEncoder.jsonNumbers("/x");
    detector.flagging.addAll(List.of(10.0, 11.0, 12.0, 13.0, 14.0));
    return ModelGuard.builder().clock(clock).auditLog(false)
        .models("digits")
        .chain("default", c -> c
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), 4096)))
        .build();
  }
}
