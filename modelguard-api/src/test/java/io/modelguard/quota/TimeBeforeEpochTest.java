package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Quota state cannot hold a time before 1970: all zeros is a fresh key, so every window index and
 * bucket time before it would read as a clock that stepped back, and the Redis script's state is
 * unsigned digits. A store whose (injected) clock reads such a time refuses to decide, clearly,
 * rather than decide wrongly or differently from another store.
 */
class TimeBeforeEpochTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
      QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1)));
  private static final QuotaKey KEY = QuotaKey.forTenant("acme", "digits");
  private static final Clock BEFORE_1970 = Clock.fixed(Instant.parse("1969-12-31T23:59:30Z"), ZoneOffset.UTC);

  @Test
  void aStoreWhoseClockReadsBefore1970RefusesToDecideAndSaysWhy() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(BEFORE_1970).build();

    assertThatThrownBy(() -> store.acquire(KEY, PLAN, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("before 1970").hasMessageContaining("-30000000");
    assertThatThrownBy(() -> store.adjust(KEY, PLAN, -1, -30_000_000L)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("before 1970");
  }

  @Test
  void theArithmeticRefusesATimeBefore1970AndChangesNothing() {
    long[] state = new long[QuotaArithmetic.stateSize(PLAN)];

    assertThatThrownBy(() -> QuotaArithmetic.tryAcquire(PLAN, state, -1, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("before 1970");
    assertThatThrownBy(() -> QuotaArithmetic.adjust(PLAN, state, -1, 1, -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("before 1970");
    assertThat(state).containsOnly(0);
  }

  @Test
  void theEpochItselfIsDecided() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder()
        .clock(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC)).build();

    assertThat(store.acquire(KEY, PLAN, 5).isAllowed()).isTrue();
    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).isFalse();
  }
}
