package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.Tier;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class QuotaLimitAndPlanTest {

  @Test
  void aTokenBucketIntervalIsRoundedUpToWholeMicroseconds() {
    QuotaLimit l = QuotaLimit.tokenBucket("odd", 7, Duration.ofSeconds(1));
    assertThat(l.intervalMicros()).isEqualTo(142_858);
    assertThat(l.toleranceMicros()).isEqualTo(7 * 142_858);
    assertThat(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)).intervalMicros()).isEqualTo(100_000);
  }

  @Test
  void invalidLimitsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> QuotaLimit.tokenBucket("bad name", 1, Duration.ofSeconds(1)))
        .hasMessageContaining("QuotaLimit.name");
    assertThatThrownBy(() -> QuotaLimit.tokenBucket("b", 0, Duration.ofSeconds(1))).hasMessageContaining("quota");
    assertThatThrownBy(() -> QuotaLimit.slidingWindow("b", 1, Duration.ofMillis(1500))).hasMessageContaining("window");
    assertThatThrownBy(() -> QuotaLimit.slidingWindow("b", 1, Duration.ofDays(367))).hasMessageContaining("window");
    assertThatThrownBy(() -> QuotaLimit.tokenBucket("b", 2_000_000, Duration.ofSeconds(1)))
        .hasMessageContaining("microsecond");
    assertThatThrownBy(() -> QuotaLimit.slidingWindow("b", 1L << 33, Duration.ofDays(30)))
        .hasMessageContaining(Long.toString(QuotaLimit.MAX_SLIDING_QUOTA));
  }

  @Test
  void aPlanRendersTheRateLimitPolicyHeaderAndRefusesDuplicateNames() {
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1)));
    assertThat(plan.policyHeader()).isEqualTo("\"burst\";q=10;w=1, \"daily\";q=100000;w=86400");
    assertThatThrownBy(() -> QuotaPlan.of(QuotaLimit.tokenBucket("x", 1, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("x", 1, Duration.ofSeconds(1)))).hasMessageContaining("'x' is used twice");
    assertThatThrownBy(QuotaPlan::of).hasMessageContaining("must not be empty");
  }

  @Test
  void theOverrideSyntaxIsTheHeaderSyntaxAndKeepsTheOverriddenAlgorithm() {
    QuotaPlan tier = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)));
    QuotaPlan merged = tier.withOverrides(" \"daily\";q=5000;w=86400, \"hour\";q=9;w=3600;a=sliding;x=ignored ");
    assertThat(merged.limits()).containsExactly(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 5000, Duration.ofDays(1)),
        QuotaLimit.slidingWindow("hour", 9, Duration.ofHours(1)));
    assertThat(QuotaPlan.parse("\"new\";q=3;w=60").limit(0).algorithm()).isEqualTo(QuotaLimit.Algorithm.TOKEN_BUCKET);
  }

  @Test
  void malformedOverridesAreRefusedWithoutEchoingThem() {
    for (String bad : new String[] {"", "burst;q=1;w=1", "\"burst;q=1", "\"b\";q=1", "\"b\";q=x;w=1",
        "\"b\";q=1;w=1;a=magic", "\"b\";q=-1;w=1"}) {
      assertThatThrownBy(() -> QuotaPlan.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("magic"));
    }
  }

  @Test
  void aNodesShareDividesEveryQuotaButNeverBelowOne() {
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 2, Duration.ofDays(1)));
    assertThat(plan.perNode(4).limits()).extracting(QuotaLimit::quota).containsExactly(2L, 1L);
    assertThat(plan.perNode(1)).isSameAs(plan);
  }

  @Test
  void aNodesShareIsRightWhileStoresOfDifferentNodeCountsAskForItAtOnce() throws Exception {
    // Two failure policies (say localFallback(2) for one store and localFallback(3) for another)
    // may share a tier's plan: each must always get its own share, never the other's.
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 600, Duration.ofSeconds(1)));
    java.util.concurrent.atomic.AtomicLong wrong = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      int nodes = 2 + t % 2;
      threads[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        // A race: tried for up to 3 s (before the fix it showed within 0.3-2 s on a two-core machine).
        for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end && wrong.get() == 0; ) {
          if (plan.perNode(nodes).limit(0).quota() != 600 / nodes) {
            wrong.incrementAndGet();
          }
        }
      });
      threads[t].start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(wrong.get()).as("shares of another node count handed out").isZero();
  }

  @Test
  void aTierHasADefaultPlanAndPerModelPlansForModelsItAllows() {
    Tier tier = Tier.builder("pro").models("digits", "iris")
        .limits(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)))
        .limits("iris", QuotaLimit.tokenBucket("burst", 2, Duration.ofSeconds(1)))
        .build();
    assertThat(tier.quotaPlan("digits").orElseThrow().limit(0).quota()).isEqualTo(10);
    assertThat(tier.quotaPlan("iris").orElseThrow().limit(0).quota()).isEqualTo(2);
    assertThat(Tier.builder("free").models("digits").build().quotaPlan("digits")).isEmpty();
    assertThatThrownBy(() -> Tier.builder("pro").models("digits")
        .limits("iris", QuotaLimit.tokenBucket("burst", 2, Duration.ofSeconds(1))).build())
        .hasMessageContaining("model 'iris'");
  }

  @Test
  void keysOfDifferentTenantsAndModelsNeverShareAPartitionAndKeepTheHashTagIntact() {
    assertThat(QuotaKey.forTenant("a:b", "c")).isNotEqualTo(QuotaKey.forTenant("a", "b:c"));
    assertThat(QuotaKey.forTenant("}{evil", "m").partition()).doesNotContain("{").doesNotContain("}");
    assertThat(QuotaKey.forTenant("50%", "m").partition()).isEqualTo("t:50%25:m");
    assertThat(QuotaKey.forAddress("t:x:m")).isNotEqualTo(QuotaKey.forTenant("x", "m"));
    assertThat(QuotaKey.forAddress("2001:db8:1:2::1")).isEqualTo(QuotaKey.forAddress("[2001:db8:1:2:ffff::9%eth0]"));
    assertThat(QuotaKey.forAddress("2001:db8:1:2::1")).isNotEqualTo(QuotaKey.forAddress("2001:db8:1:3::1"));
    assertThat(QuotaKey.forAddress(null)).isEqualTo(QuotaKey.forAddress(" "));
  }

  @Test
  void anIpv4AddressWrittenAsIpv4MappedIpv6SharesTheKeyOfItsDottedQuad() {
    // A client whose address reaches the limit in several spellings (a dual-stack proxy writes
    // ::ffff:a.b.c.d, another path the plain quad) must not get one budget per spelling.
    QuotaKey plain = QuotaKey.forAddress("203.0.113.5");
    assertThat(QuotaKey.forAddress("::ffff:203.0.113.5")).isEqualTo(plain);
    assertThat(QuotaKey.forAddress("::FFFF:203.0.113.5")).isEqualTo(plain);
    assertThat(QuotaKey.forAddress("0:0:0:0:0:ffff:203.0.113.5")).isEqualTo(plain);
    assertThat(QuotaKey.forAddress("0000:0000:0000:0000:0000:FFFF:cb00:7105")).isEqualTo(plain);
    assertThat(QuotaKey.forAddress("[::ffff:cb00:7105]")).isEqualTo(plain);
    assertThat(QuotaKey.forAddress("::ffff:203.0.113.6")).isNotEqualTo(plain);
  }

  @Test
  void aNarrowedTokenBucketNeverAdmitsWhereTheLimitItNarrowsWouldNot() {
    // A narrowed limit shares the tenant's bucket; its interval is rounded up to whole
    // microseconds, and so was its bucket size (quota x interval), which then exceeded the tier's.
    InMemoryQuotaStore store = InMemoryQuotaStore.builder()
        .clock(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)).build();
    QuotaPlan tier = QuotaPlan.of(QuotaLimit.tokenBucket("minute", 600_000, Duration.ofMinutes(1)));
    QuotaPlan narrowed = tier.narrowedBy("\"minute\";q=599999;w=60");
    QuotaKey key = QuotaKey.forTenant("acme", "digits");
    assertThat(store.acquire(key, tier, 600_000).isAllowed()).isTrue();
    assertThat(store.acquire(key, tier, 1).isAllowed()).as("the tenant's bucket is empty").isFalse();
    assertThat(store.acquire(key, narrowed, 1).isAllowed()).as("a principal whose claim only lowers the limit")
        .isFalse();

    QuotaPlan second = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1_000_000, Duration.ofSeconds(1)));
    QuotaKey other = QuotaKey.forTenant("globex", "digits");
    assertThat(store.acquire(other, second, 1_000_000).isAllowed()).isTrue();
    long more = 0;
    QuotaPlan lowered = second.narrowedBy("\"burst\";q=999999;w=1");
    for (QuotaDecision d = store.acquire(other, lowered, 1); d.isAllowed(); d = store.acquire(other, lowered, 1)) {
      more++;
      if (more > 1000) {
        break;
      }
    }
    assertThat(more).as("units beyond the tier's full bucket at one instant").isZero();
    // Narrowing never lets a principal through where the plan alone would not, for any cost.
    for (long q : new long[] {1, 2, 3, 7, 599, 599_999}) {
      QuotaLimit base = QuotaLimit.tokenBucket("minute", 600_000, Duration.ofMinutes(1));
      QuotaLimit n = QuotaPlan.of(base).narrowedBy("\"minute\";q=" + q + ";w=60").limit(0);
      assertThat(n.toleranceMicros() - n.intervalMicros()).as("q=" + q)
          .isLessThanOrEqualTo(base.toleranceMicros() - base.intervalMicros());
      assertThat(n.intervalMicros()).isGreaterThanOrEqualTo(base.intervalMicros());
      assertThat(n.quota()).isLessThanOrEqualTo(q);
    }
    // Narrowings that fit are kept as written.
    assertThat(QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)))
        .narrowedBy("\"burst\";q=3;w=1").limit(0)).isEqualTo(QuotaLimit.tokenBucket("burst", 3, Duration.ofSeconds(1)));
  }

  @Test
  void aQuotedParameterValueIsOneValueEvenIfItHoldsSeparators() {
    // Structured fields: x is the string "a;q=100000;" and q is 5. A validator that reads the claim
    // as a structured field (the issuer's, a gateway's) sees q=5; ModelGuard must enforce that.
    QuotaPlan plan = QuotaPlan.parse("\"burst\";q=5;w=1;x=\"a;q=100000;\"");
    assertThat(plan.limits()).containsExactly(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)));
    assertThat(QuotaPlan.parse("\"burst\";x=\"q=9, \\\"day\\\";q=1\";q=5;w=1").limits())
        .containsExactly(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)));
    assertThat(QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)))
        .narrowedBy("\"burst\";q=5;w=1;note=\"q=7;\"").limit(0).quota()).isEqualTo(5);
    assertThatThrownBy(() -> QuotaPlan.parse("\"burst\";q=5;w=1;x=\"open"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("member 1");
  }
}
