package io.modelguard.redis;

import io.lettuce.core.RedisURI;
import io.modelguard.test.redis.RedisServer;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.redis.OutageDrill.Sample;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redis killed under load (SIGKILL, as a crash) and restarted on the same port: every decision
 * returns within the timeout, decisions take under a millisecond once the circuit is open and do
 * not touch Redis, each failure policy answers as documented, and counting in Redis resumes well
 * within one window of the restart.
 *
 * <p>Durations are bounded generously (this machine is shared with other builds): the timeout is
 * 100 ms and a decision may take up to 400 ms more before the test fails; an open-circuit decision
 * counts as slow above 1 ms, and at most 2 % of them (plus the probes) may be.
 */
class RedisOutageTest {
  static final Logger log = LoggerFactory.getLogger(RedisOutageTest.class);
  static final Duration TIMEOUT = Duration.ofMillis(100);
  static final Duration OPEN = Duration.ofMillis(250);
  static final long QUOTA = 60;
  static final Duration WINDOW = Duration.ofSeconds(30);
  static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", QUOTA, WINDOW));

  static Stream<FailurePolicy> policies() {
    return Stream.of(FailurePolicy.failOpen(), FailurePolicy.failClosed(), FailurePolicy.localFallback(2));
  }

  @ParameterizedTest
  @MethodSource("policies")
  void standaloneRedisKilledUnderLoad(FailurePolicy policy) throws Exception {
    try (RedisServer server = RedisServer.start();
        RedisQuotaStore store = store(RedisQuotaStore.builder(RedisURI.create(server.url())), policy)) {
      QuotaKey key = QuotaKey.forTenant("outage-" + UUID.randomUUID(), "digits");
      drill("standalone", store, key, policy, server::kill, server::restart, () -> true);
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void clusterNodeKilledUnderLoad(FailurePolicy policy) throws Exception {
    try (RedisCluster cluster = RedisCluster.start();
        RedisQuotaStore store = store(RedisQuotaStore.clusterBuilder(cluster.seeds()), policy)) {
      QuotaKey key = QuotaKey.forTenant("outage-" + UUID.randomUUID(), "digits");
      RedisServer owner = cluster.nodeFor(RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:burst:t30");
      drill("cluster", store, key, policy, owner::kill, owner::restart, () -> cluster.awaitHealthy(20_000));
    }
  }

  private static RedisQuotaStore store(RedisQuotaStore.Builder builder, FailurePolicy policy) {
    return builder.timeout(TIMEOUT).failureThreshold(3).openDuration(OPEN).failurePolicy(policy).build();
  }

  private void drill(String label, RedisQuotaStore store, QuotaKey key, FailurePolicy policy, Runnable kill, Runnable restart,
      java.util.function.BooleanSupplier healthy) throws Exception {
    assertThat(store.awaitReady(Duration.ofSeconds(10))).isTrue();
    // A cold JVM's first decisions may outlast the timeout on a busy machine (class loading, the
    // interpreter): the drill starts once one comes from Redis, on a key of its own so that the
    // failure policy's answers meanwhile leave the drill's counts alone.
    QuotaKey warmUp = QuotaKey.forTenant("warm-up-" + UUID.randomUUID(), "digits");
    Poll.until("Redis answers before the drill", () -> !store.acquire(warmUp, PLAN, 1).isDegraded());
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
    OutageDrill drill = new OutageDrill(store, key, PLAN, 4);
    List<Sample> samples;
    long killedAt;
    long restartedAt;
    long callsAtKill;
    long callsAtRestart;
    long recoveredAt;
    try {
      Thread.sleep(500);
      callsAtKill = store.redisCalls();
      killedAt = System.nanoTime();
      kill.run();
      Thread.sleep(1500);
      callsAtRestart = store.redisCalls();
      restartedAt = System.nanoTime();
      restart.run();
      assertThat(healthy.getAsBoolean()).as("Redis is back").isTrue();
      drill.watchFrom(restartedAt);
      recoveredAt = drill.awaitRedisDecisionAfter(restartedAt, WINDOW.toMillis());
      Thread.sleep(500);
    } finally {
      samples = drill.stop();
    }

    String name = label + " " + policy;
    List<Sample> open = samples.stream().filter(s -> s.before() == CircuitState.OPEN).collect(Collectors.toList());
    List<Sample> degraded = samples.stream().filter(s -> !s.fromRedis()).collect(Collectors.toList());
    List<Sample> afterRecovery = samples.stream()
        .filter(s -> recoveredAt >= 0 && s.startNanos() >= recoveredAt && s.fromRedis()).collect(Collectors.toList());
    long maxNanos = samples.stream().mapToLong(Sample::nanos).max().orElse(0);
    long slowOpen = open.stream().filter(s -> s.nanos() > TimeUnit.MILLISECONDS.toNanos(1)).count();
    long probes = TimeUnit.NANOSECONDS.toMillis(restartedAt - killedAt) / OPEN.toMillis() + 2;
    log.warn("outage drill {}: {} decisions, {} degraded, max {} ms; open circuit: {} decisions, p50 {} us, p99 {} us,"
            + " {} over 1 ms; Redis calls during the outage {}; Redis counted again {} ms after the restart",
        name, samples.size(), degraded.size(), TimeUnit.NANOSECONDS.toMillis(maxNanos), open.size(),
        OutageDrill.percentile(open, 0.50) / 1000, OutageDrill.percentile(open, 0.99) / 1000, slowOpen,
        callsAtRestart - callsAtKill, recoveredAt < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(recoveredAt - restartedAt));

    // Every decision returns within the timeout (plus scheduling slack on a shared machine).
    assertThat(maxNanos).isLessThanOrEqualTo(TIMEOUT.plusMillis(400).toNanos());
    // Once open, decisions are immediate and leave Redis alone.
    assertThat(open.size()).as("decisions while the circuit was open").isGreaterThan(1000);
    assertThat(slowOpen).isLessThanOrEqualTo(probes + open.size() / 50);
    assertThat(OutageDrill.percentile(open, 0.50)).isLessThan(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(callsAtRestart - callsAtKill).as("calls that reached Redis while it was down")
        .isLessThanOrEqualTo(4 + 3 + 2 * probes);
    // Each policy answers as documented.
    assertThat(degraded).isNotEmpty();
    switch (policy.mode()) {
      case FAIL_OPEN:
        assertThat(degraded).allSatisfy(s -> {
          assertThat(s.decision().isAllowed()).isTrue();
          assertThat(s.decision().isMetered()).isFalse();
        });
        break;
      case FAIL_CLOSED:
        assertThat(degraded).allSatisfy(s -> {
          assertThat(s.decision().status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
          assertThat(s.decision().retryAfterMicros()).isBetween(1L, OPEN.toNanos() / 1000);
        });
        break;
      default:
        assertThat(degraded).allSatisfy(s -> assertThat(s.decision().plan().limit(0).quota()).isEqualTo(QUOTA / 2));
        long admittedLocally = degraded.stream().filter(s -> s.decision().isAllowed()).count();
        long outageSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt) + 1;
        assertThat(admittedLocally).isBetween(QUOTA / 2, QUOTA / 2 + outageSeconds * QUOTA / 2 / WINDOW.getSeconds() + 1);
        break;
    }
    // Counting in Redis resumes within one window of the restart, and the limit holds again.
    assertThat(recoveredAt).as("a decision from Redis after the restart").isPositive();
    assertThat(recoveredAt - restartedAt).isLessThan(WINDOW.toNanos());
    long admittedAfter = afterRecovery.stream().filter(s -> s.decision().isAllowed()).count();
    assertThat(admittedAfter).isLessThanOrEqualTo(QUOTA + 2 * QUOTA / WINDOW.getSeconds() + 1);
    assertThat(afterRecovery).anySatisfy(s -> assertThat(s.decision().isAllowed()).isFalse());
  }
}
