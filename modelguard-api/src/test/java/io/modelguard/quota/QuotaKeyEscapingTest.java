package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.DigitsRequest;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How names become partitions: injective, and plain UTF-16 that UTF-8 carries to Redis intact. */
class QuotaKeyEscapingTest {
  @Test
  void separatorsAndLoneSurrogatesAreEncodedAndWholeCharactersKept() {
    assertThat(QuotaKey.forTenant("a:b{c}%", "digits").partition()).isEqualTo("t:a%3Ab%7Bc%7D%25:digits");
    // A lone surrogate would become '?' in UTF-8, merging it with other names.
    assertThat(QuotaKey.forTenant("acme\uD800", "digits").partition()).isEqualTo("t:acme%uD800:digits");
    assertThat(QuotaKey.forTenant("\uDFFFacme", "digits").partition()).isEqualTo("t:%uDFFFacme:digits");
    // A whole supplementary character (a pair) is kept as it is, so such names keep their keys.
    assertThat(QuotaKey.forTenant("caf\u00e9-\uD83D\uDE80", "digits").partition()).isEqualTo("t:caf\u00e9-\uD83D\uDE80:digits");
    assertThat(QuotaKey.forTenant("\uD83D\uDE80\uD83D", "digits").partition()).isEqualTo("t:\uD83D\uDE80%uD83D:digits");
  }

  @Test
  void everyControlCharacterIsEncodedSoAKeyFitsOneLogLine() {
    // NEL (U+0085) ends a line for many log readers; U+009B is the 8-bit CSI of terminal escapes.
    // Both are controls like \n and ESC, and a partition is logged (a dropped settlement, say).
    assertThat(QuotaKey.forTenant("acme\u0085FORGED\u009B31m\u001B[0m\u007F", "digits").partition())
        .isEqualTo("t:acme%85FORGED%9B31m%1B[0m%7F:digits");
    assertThat(QuotaKey.forAddress("198.51.100.7\u0085x").partition()).isEqualTo("a:198.51.100.7%85x");
  }

  @Test
  void aNameOverTheLengthLimitGetsABoundedPartitionOfItsOwn() {
    String base = "tenant-".repeat(40); // 280 characters
    QuotaKey a = QuotaKey.forTenant(base + "a", "digits");
    QuotaKey b = QuotaKey.forTenant(base + "b", "digits");

    assertThat(a).isNotEqualTo(b).isEqualTo(QuotaKey.forTenant(base + "a", "digits"));
    assertThat(a.partition()).startsWith("t:" + base.substring(0, 200) + "%~").endsWith(":digits")
        .hasSize(2 + 200 + 2 + 32 + ":digits".length());
    assertThat(QuotaKey.forTenant("x".repeat(10_000), "digits").partition()).hasSize(2 + 200 + 2 + 32 + 7);
  }

  @Test
  void aTenantWithALongNameIsCountedNotRefusedWithAnInternalError() {
    // A valid token whose tenant claim is long (an identity provider's own identifiers): the
    // quota threw while keying it, so the request got a 500 (or, under a fail-open policy, no quota).
    String tenant = "org-" + "0123456789".repeat(30);
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token", ctx -> GuardDecision.authenticated(
                Principal.builder("u").tenant(tenant).build()))
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(InMemoryQuotaStore.builder().build())
                .defaultLimits(QuotaLimit.tokenBucket("burst", 2, Duration.ofMinutes(1))).build()))
        .build();

    GuardDecision first = guard.check(new DigitsRequest());
    guard.check(new DigitsRequest());
    GuardDecision third = guard.check(new DigitsRequest());

    assertThat(first.isAllowed()).as(first.toString()).isTrue();
    assertThat(first.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=30");
    assertThat(third.isAllowed()).isFalse();
    assertThat(third.reason().orElseThrow().code()).isEqualTo("quota.exceeded");
  }
}
