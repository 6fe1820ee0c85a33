package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaLimit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** Tier limits and the {@code quota} object of the configuration file; {@code --redis-url} and {@code --quota-failure}. */
class QuotaConfigTest {
  private static DemoConfig parse(String json) throws StartupException {
    return DemoConfig.parse(json.getBytes(StandardCharsets.UTF_8), "config test.json", ModelCatalog.MODEL_IDS);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String json) {
    return assertThatThrownBy(() -> parse(json)).isInstanceOf(StartupException.class)
        .hasMessageStartingWith("config test.json: ");
  }

  private static String tier(String limits) {
    return "{\"tiers\":{\"basic\":{\"models\":[\"digits\"],\"limits\":" + limits + "}}}";
  }

  @Test
  void tiersCarryLimitsAndTheOldFormStaysValid() throws Exception {
    DemoConfig config = parse("{\"tiers\":{\"basic\":{\"models\":[\"digits\",\"iris\"],\"limits\":["
        + "{\"name\":\"burst\",\"quota\":5,\"windowSeconds\":1},"
        + "{\"name\":\"daily\",\"quota\":1000,\"windowSeconds\":86400,\"algorithm\":\"sliding\"}]},"
        + "\"plain\":[\"iris\"], \"nolimits\":{\"models\":[\"digits\"]}}}");
    assertThat(config.tiers()).containsOnlyKeys("basic", "plain", "nolimits");
    assertThat(config.tiers().get("basic")).containsExactly("digits", "iris");
    assertThat(config.tierLimits()).containsOnlyKeys("basic");
    assertThat(config.tierLimits().get("basic")).containsExactly(
        QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)));
    assertThat(config.quota()).isEqualTo(QuotaSettings.none());
    // Without tiers, the demo tiers come with their limits; the sample file still parses.
    assertThat(parse("{}").tierLimits()).isEqualTo(DemoConfig.demoTierLimits());
    assertThat(DemoConfig.read(Path.of("demo-config.json"), ModelCatalog.MODEL_IDS).tiers()).isNotEmpty();
  }

  @Test
  void aBadLimitNameIsRefusedOnOneLineWithoutTheWholeValue() {
    // A start-up error is one line: no line break of the file's, and never all of a long value
    // (the file may be 1 MiB).
    assertRejected("{\"quota\":{\"unauthenticated\":[{\"name\":\"u\\r\\nv\",\"quota\":5,\"windowSeconds\":1}]}}")
        .hasMessageContaining("quota.unauthenticated[0].name: 'u??v' is not a limit name")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("\r"));
    assertRejected(tier("[{\"name\":\"" + "x".repeat(100_000) + "\",\"quota\":5,\"windowSeconds\":1}]"))
        .hasMessageContaining("tiers.basic.limits[0].name: 'xxxx")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300));
  }

  @Test
  void badLimitsAreRejectedNamingTheField() {
    assertRejected(tier("\"burst\"")).hasMessageContaining("tiers.basic.limits: must be an array of limits");
    assertRejected(tier("[]")).hasMessageContaining("tiers.basic.limits: must hold at least one limit");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":5}]"))
        .hasMessageContaining("tiers.basic.limits[0].windowSeconds: required");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":\"5\",\"windowSeconds\":1}]"))
        .hasMessageContaining("tiers.basic.limits[0].quota: must be a positive integer");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":1.5,\"windowSeconds\":1}]"))
        .hasMessageContaining("tiers.basic.limits[0].quota: must be a positive integer");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":0,\"windowSeconds\":1}]"))
        .hasMessageContaining("tiers.basic.limits[0].quota: must be a positive integer");
    assertRejected(tier("[{\"quota\":5,\"windowSeconds\":1}]")).hasMessageContaining("tiers.basic.limits[0].name: required");
    assertRejected(tier("[{\"name\":\"b c\",\"quota\":5,\"windowSeconds\":1}]"))
        .hasMessageContaining("tiers.basic.limits[0].name: 'b c' is not a limit name");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":5,\"windowSeconds\":40000000}]"))
        .hasMessageContaining("tiers.basic.limits[0]: QuotaLimit.window");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":5,\"windowSeconds\":1,\"algorithm\":\"leaky\"}]"))
        .hasMessageContaining("tiers.basic.limits[0].algorithm: must be \"token-bucket\" or \"sliding\"");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":5,\"windowSeconds\":1,\"per\":\"day\"}]"))
        .hasMessageContaining("tiers.basic.limits[0].per: unknown field");
    assertRejected(tier("[{\"name\":\"b\",\"quota\":5,\"windowSeconds\":1},{\"name\":\"b\",\"quota\":9,\"windowSeconds\":9}]"))
        .hasMessageContaining("tiers.basic.limits[1].name: 'b' is used twice");
    assertRejected("{\"tiers\":{\"basic\":{\"limits\":[]}}}").hasMessageContaining("tiers.basic.models: required");
    assertRejected("{\"tiers\":{\"basic\":{\"models\":[\"digits\"],\"limit\":[]}}}")
        .hasMessageContaining("tiers.basic.limit: unknown field (allowed: models, limits)");
    assertRejected("{\"tiers\":{\"basic\":{\"models\":[\"chess\"]}}}")
        .hasMessageContaining("tiers.basic.models[0]: unknown model 'chess'");
  }

  @Test
  void theQuotaObjectIsReadAndValidated() throws Exception {
    DemoConfig config = parse("{\"quota\":{\"redisUrl\":\"redis://127.0.0.1:6379\",\"failurePolicy\":\"closed\","
        + "\"unauthenticated\":[{\"name\":\"guesses\",\"quota\":10,\"windowSeconds\":60}]}}");
    assertThat(config.quota().redisUrl()).hasValue("redis://127.0.0.1:6379");
    assertThat(config.quota().failurePolicy()).isEqualTo(FailurePolicy.failClosed());
    assertThat(config.quota().unauthenticated())
        .containsExactly(QuotaLimit.tokenBucket("guesses", 10, Duration.ofMinutes(1)));
    assertRejected("{\"quota\":{\"redisUrl\":\"http://127.0.0.1:6379\"}}")
        .hasMessageContaining("quota.redisUrl: must be a redis:// or rediss:// URL");
    assertRejected("{\"quota\":{\"redisUrl\":\"redis://:secret@/\"}}")
        .hasMessageContaining("quota.redisUrl: not a valid Redis URL").hasMessageNotContaining("secret");
    assertRejected("{\"quota\":{\"failurePolicy\":\"maybe\"}}")
        .hasMessageContaining("quota.failurePolicy: must be open, closed, local or local:N");
    assertRejected("{\"quota\":{\"unauthenticated\":{}}}").hasMessageContaining("quota.unauthenticated: must be an array");
    assertRejected("{\"quota\":{\"redis\":\"x\"}}").hasMessageContaining("quota.redis: unknown field");
    assertRejected("{\"quota\":{\"failurePolicy\":true}}").hasMessageContaining("quota.failurePolicy: wrong type");
  }

  @Test
  void flagsChooseTheStoreAndTheFailurePolicyOverTheFile() throws Exception {
    AppOptions none = AppOptions.parse(new String[0], Map.of());
    assertThat(none.quota().redisUrl()).isEmpty();
    assertThat(none.quota().failurePolicy()).isEqualTo(FailurePolicy.localFallback(1));
    assertThat(none.quota().unauthenticated()).isEqualTo(QuotaSettings.DEFAULT_UNAUTHENTICATED);

    AppOptions o = AppOptions.parse(new String[] {"--redis-url", "redis://127.0.0.1:6390", "--quota-failure=local:4"},
        Map.of());
    assertThat(o.quota().redisUrl()).hasValue("redis://127.0.0.1:6390");
    assertThat(o.quota().failurePolicy()).isEqualTo(FailurePolicy.localFallback(4));
    assertThat(AppOptions.parse(new String[] {"--quota-failure", "open"}, Map.of()).quota().failurePolicy())
        .isEqualTo(FailurePolicy.failOpen());

    QuotaSettings file = QuotaSettings.none().withRedisUrl("redis://10.0.0.1:6379").withFailurePolicy("closed")
        .withUnauthenticated(List.of(QuotaLimit.tokenBucket("g", 2, Duration.ofHours(1))));
    QuotaSettings merged = AppOptions.parse(new String[] {"--quota-failure", "open"}, Map.of()).quota().over(file);
    assertThat(merged.redisUrl()).hasValue("redis://10.0.0.1:6379");
    assertThat(merged.failurePolicy()).isEqualTo(FailurePolicy.failOpen());
    assertThat(merged.unauthenticated()).hasSize(1);
    assertThat(merged.toString()).contains("10.0.0.1:6379");

    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--redis-url", "127.0.0.1:6379"}, Map.of()))
        .hasMessage("--redis-url: must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--redis-url"}, Map.of()))
        .hasMessageContaining("--redis-url needs a value");
    assertThatThrownBy(() -> AppOptions.parse(new String[] {"--quota-failure", "local:0"}, Map.of()))
        .hasMessage("--quota-failure: must be open, closed, local or local:N (N nodes, 1..10000)");
  }

  @Test
  void aBadQuotaFieldStopsStartUpWithExitCode2(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path config = dir.resolve("bad.json");
    Files.writeString(config, tier("[{\"name\":\"b\",\"quota\":-1,\"windowSeconds\":1}]"));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code = ModelServingApp.run(new String[] {"--port", "0", "--config", config.toString()}, Map.of(),
        new java.io.PrintStream(out, true, StandardCharsets.UTF_8), new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(2);
    assertThat(out.size()).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8).strip()).isEqualTo("modelguard-examples: config " + config
        + ": tiers.basic.limits[0].quota: must be a positive integer");
  }

  @Test
  void anUnauthenticatedLimitTooLargeForItsIpv6NetworkStopsStartUpOnOneLine(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    // Valid per address (100,000 a second), but each IPv6 /48 gets 16 times it: more than one unit
    // per microsecond, which no token bucket holds. Start-up stops with the configuration's field
    // named, not with an exception's stack trace.
    Path config = dir.resolve("fast.json");
    Files.writeString(config, "{\"quota\":{\"unauthenticated\":[{\"name\":\"u\",\"quota\":100000,\"windowSeconds\":1}]}}");
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code = ModelServingApp.run(new String[] {"--port", "0", "--config", config.toString()}, Map.of(),
        new java.io.PrintStream(out, true, StandardCharsets.UTF_8), new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).strip())
        .startsWith("modelguard-examples: quota.unauthenticated: UnauthenticatedLimit.ipv6NetworkFactor 16 (the default)")
        .doesNotContain("\n").doesNotContain("\tat ");
  }
}
