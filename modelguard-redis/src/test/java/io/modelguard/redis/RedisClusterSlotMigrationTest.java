package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The slot of a tenant's keys moves to another master, as in a resharding ({@code CLUSTER SETSLOT
 * IMPORTING} on the target, {@code MIGRATING} on the source, {@code MIGRATE} of its keys, then
 * {@code SETSLOT NODE}), on a real three-master cluster. Meanwhile Redis refuses every script call
 * of the slot with {@code TRYAGAIN}: each call's keys include its replay guard, which is new, so
 * they are never all on one node (the source answers {@code TRYAGAIN} while it holds some of them,
 * else {@code ASK}, and the target, asked, {@code TRYAGAIN}). The store sends such a call again
 * within its timeout, so a decision that waits through the end of the migration is decided by
 * Redis, once; one that outlasts its timeout gets the failure policy, but the master's breaker does
 * not count it, and no refused call changes anything in Redis. The breaker's ticker never moves: a
 * breaker that opened would stay open.
 */
class RedisClusterSlotMigrationTest {
  /** A bucket of 100 units a day, on a fixed clock: no unit refills during the test. */
  private static final QuotaLimit LIMIT = QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1));
  private static final QuotaPlan PLAN = QuotaPlan.of(LIMIT);
  private static final int THRESHOLD = 3;

  private static RedisCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = RedisCluster.start();
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
  }

  @Test
  void aDecisionWhileTheKeysAreStillOnTheSourceIsDecidedOnceTheSlotHasMoved() {
    QuotaKey key = key();
    try (RedisQuotaStore store = store(Duration.ofSeconds(10))) {
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the source").isEqualTo(99);
      try (Migration migration = Migration.start(key)) {
        long refused = tryAgainReplies(migration.source);
        CompletableFuture<QuotaDecision> decision = CompletableFuture.supplyAsync(() -> store.acquire(key, PLAN, 1));
        awaitTryAgain(migration.source, refused);
        migration.moveKeys();
        migration.finish();

        QuotaDecision d = decision.join();
        assertThat(d.isDegraded()).as("decided by Redis after the migration: %s", d).isFalse();
        assertThat(d.remaining(0)).as("charged once").isEqualTo(98);
        assertThat(store.circuitState(key)).isEqualTo(CircuitState.CLOSED);
        assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the target").isEqualTo(97);
        assertThat(migration.target.cli("exists", RedisCluster.redisKey(key, LIMIT))).contains("1");
      }
    }
  }

  @Test
  void aDecisionWhileTheKeysAreOnTheTargetIsDecidedOnceTheSlotHasMoved() {
    QuotaKey key = key();
    try (RedisQuotaStore store = store(Duration.ofSeconds(10))) {
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the source").isEqualTo(99);
      try (Migration migration = Migration.start(key)) {
        migration.moveKeys();

        // The source has none of the call's keys and asks the target, which has some of them only.
        long refused = tryAgainReplies(migration.target);
        CompletableFuture<QuotaDecision> decision = CompletableFuture.supplyAsync(() -> store.acquire(key, PLAN, 1));
        awaitTryAgain(migration.target, refused);
        migration.finish();

        QuotaDecision d = decision.join();
        assertThat(d.isDegraded()).as("decided by Redis after the migration: %s", d).isFalse();
        assertThat(d.remaining(0)).as("charged once").isEqualTo(98);
        assertThat(store.circuitState(key)).isEqualTo(CircuitState.CLOSED);
        assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the target").isEqualTo(97);
      }
    }
  }

  @Test
  void aMigrationThatOutlastsTheTimeoutFailsItsDecisionsButOpensNoBreaker() {
    QuotaKey key = key();
    try (RedisQuotaStore store = store(Duration.ofMillis(200))) {
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the source").isEqualTo(99);
      QuotaKey neighbour = cluster.oneKeyPerNode(LIMIT).get(cluster.nodeFor(RedisCluster.redisKey(key, LIMIT)));
      assertThat(store.acquire(neighbour, PLAN, 1).isDegraded()).as("the source answers").isFalse();
      try (Migration migration = Migration.start(key)) {
        assertThat(SlotHash.getSlot(RedisCluster.redisKey(neighbour, LIMIT))).isNotEqualTo(migration.slot);

        for (boolean moved : new boolean[] {false, true}) {
          if (moved) {
            migration.moveKeys();
          }
          RedisServer holder = moved ? migration.target : migration.source;
          List<String> keysInSlot = migration.keysInSlot(holder);
          long refused = tryAgainReplies(holder);
          for (int i = 0; i < THRESHOLD + 2; i++) {
            QuotaDecision d = store.acquire(key, PLAN, 1);
            assertThat(d.status()).as("the failure policy answers (keys moved: %s)", moved)
                .isEqualTo(QuotaDecision.Status.UNAVAILABLE);
            assertThat(store.circuitState(key)).as("a slot in migration is no outage of its master (keys moved: %s)",
                moved).isEqualTo(CircuitState.CLOSED);
          }
          assertThat(tryAgainReplies(holder)).as("Redis refused the calls with TRYAGAIN").isGreaterThan(refused);
          assertThat(migration.keysInSlot(holder)).as("a refused call writes nothing, not even its replay guard")
              .isEqualTo(keysInSlot);
          assertThat(store.acquire(neighbour, PLAN, 1).isDegraded()).as("the master's other slots are decided")
              .isFalse();
        }

        migration.finish();
        QuotaDecision d = store.acquire(key, PLAN, 1);
        assertThat(d.isDegraded()).as("decided by Redis after the migration: %s", d).isFalse();
        assertThat(d.remaining(0)).as("the refused decisions charged nothing").isEqualTo(98);
      }
    }
  }

  @Test
  void aCallWhoseDecisionTimedOutWhileItWaitedToBeSentAgainIsNotSent() {
    QuotaKey key = key();
    CountDownLatch release = new CountDownLatch(1);
    try (RedisQuotaStore store = store(Duration.ofMillis(200))) {
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the source").isEqualTo(99);
      try (Migration migration = Migration.start(key)) {
        // Holds the JVM's one delay thread, which the store's waits before sending again run on, as
        // a busy JVM may: the refused call's next send is then due only after its decision timed out.
        holdTheDelayThreadUntil(release);
        long refused = tryAgainReplies(migration.source);
        QuotaDecision d = store.acquire(key, PLAN, 1);
        assertThat(d.status()).as("timed out in the migration").isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        assertThat(tryAgainReplies(migration.source)).as("refused once, then waited").isEqualTo(refused + 1);
        migration.moveKeys();
        migration.finish();
        release.countDown();

        // Queued behind the refused call while it is the key's call in flight, so decided after it.
        QuotaDecision next = store.acquire(key, PLAN, 1);
        assertThat(next.isDegraded()).as("decided by Redis after the migration: %s", next).isFalse();
        assertThat(next.remaining(0)).as("the decision that timed out was not charged later").isEqualTo(98);
      }
    } finally {
      release.countDown();
    }
  }

  @Test
  void decisionsThatTimedOutQueuedBehindARefusedCallOpenNoBreaker() {
    QuotaKey key = key();
    CountDownLatch release = new CountDownLatch(1);
    try (RedisQuotaStore store = store(Duration.ofMillis(200))) {
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).as("counted on the source").isEqualTo(99);
      try (Migration migration = Migration.start(key)) {
        // Holds the JVM's delay thread, so that the refused call is still the key's call in flight
        // (waiting to be sent again) when the decisions queued behind it time out: a busy key's
        // decisions that came in while its call was refused, or a reply late by a round trip.
        holdTheDelayThreadUntil(release);
        long refused = tryAgainReplies(migration.source);
        CompletableFuture<QuotaDecision> first = CompletableFuture.supplyAsync(() -> store.acquire(key, PLAN, 1));
        awaitTryAgain(migration.source, refused);
        List<CompletableFuture<QuotaDecision>> queued = new ArrayList<>();
        for (int i = 0; i < THRESHOLD; i++) {
          queued.add(CompletableFuture.supplyAsync(() -> store.acquire(key, PLAN, 1)));
        }
        assertThat(first.join().status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        for (CompletableFuture<QuotaDecision> d : queued) {
          assertThat(d.join().status()).as("the failure policy answers").isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        }
        assertThat(store.circuitState(key)).as("a slot in migration is no outage of its master")
            .isEqualTo(CircuitState.CLOSED);
        release.countDown();
        migration.moveKeys();
        migration.finish();
        QuotaDecision d = store.acquire(key, PLAN, 1);
        assertThat(d.isDegraded()).as("decided by Redis after the migration: %s", d).isFalse();
        assertThat(d.remaining(0)).as("the decisions that timed out charged nothing").isEqualTo(98);
      }
    } finally {
      release.countDown();
    }
  }

  /**
   * Occupies the JVM's one delay thread (which the store's waits before sending a call again run
   * on) until {@code release} opens, and returns once it is occupied.
   */
  private static void holdTheDelayThreadUntil(CountDownLatch release) {
    CountDownLatch held = new CountDownLatch(1);
    CompletableFuture.delayedExecutor(0, TimeUnit.NANOSECONDS, Runnable::run).execute(() -> {
      held.countDown();
      awaitUninterruptibly(release);
    });
    awaitUninterruptibly(held);
  }

  private static RedisQuotaStore store(Duration timeout) {
    RedisQuotaStore store = RedisQuotaStore.clusterBuilder(cluster.seeds())
        .clientTimeForTesting(FakeClock.standard())
        .timeout(timeout)
        .failureThreshold(THRESHOLD)
        .circuitTicker(() -> 0)
        .failurePolicy(FailurePolicy.failClosed())
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("the cluster answers").isTrue();
    return store;
  }

  private static QuotaKey key() {
    return QuotaKey.forTenant("migrated-" + UUID.randomUUID(), "digits");
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** How many {@code TRYAGAIN} replies {@code node} has given. */
  private static long tryAgainReplies(RedisServer node) {
    for (String line : node.cli("info", "errorstats").split("\n")) {
      if (line.startsWith("errorstat_TRYAGAIN:count=")) {
        return Long.parseLong(line.trim().substring("errorstat_TRYAGAIN:count=".length()));
      }
    }
    return 0;
  }

  /** Waits until {@code node} has refused a call with {@code TRYAGAIN} since it had given {@code before}. */
  private static void awaitTryAgain(RedisServer node, long before) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (tryAgainReplies(node) == before) {
      assertThat(System.nanoTime()).as("a TRYAGAIN reply from %s", node.url()).isLessThan(deadline);
    }
  }

  /**
   * The migration of a key's slot from the master serving it to another one, step by step; closed,
   * it completes, so that a failed test leaves no slot in migration for the next one.
   */
  private static final class Migration implements AutoCloseable {
    final int slot;
    final RedisServer source;
    final RedisServer target;
    private final String sourceId;
    private final String targetId;

    private Migration(QuotaKey key) {
      String redisKey = RedisCluster.redisKey(key, LIMIT);
      this.slot = SlotHash.getSlot(redisKey);
      this.source = cluster.nodeFor(redisKey);
      this.target = cluster.nodes().stream().filter(node -> node != source).findFirst().orElseThrow();
      this.sourceId = source.cli("cluster", "myid").trim();
      this.targetId = target.cli("cluster", "myid").trim();
    }

    /** Opens the migration of {@code key}'s slot, as {@code redis-cli --cluster reshard} does: target first. */
    static Migration start(QuotaKey key) {
      Migration m = new Migration(key);
      assertThat(m.target.cli("cluster", "setslot", Integer.toString(m.slot), "importing", m.sourceId)).contains("OK");
      assertThat(m.source.cli("cluster", "setslot", Integer.toString(m.slot), "migrating", m.targetId)).contains("OK");
      return m;
    }

    /** Moves every key of the slot, quota keys and replay guards, from the source to the target. */
    void moveKeys() {
      List<String> keys = keysInSlot(source);
      assertThat(keys).as("the quota key and a replay guard").isNotEmpty();
      List<String> migrate = new ArrayList<>(List.of("migrate", "127.0.0.1", Integer.toString(target.port()), "", "0",
          "5000", "keys"));
      migrate.addAll(keys);
      assertThat(source.cli(migrate.toArray(String[]::new))).contains("OK");
      assertThat(keysInSlot(source)).isEmpty();
    }

    /** Gives the slot to the target, in every master's view: target, source, then the other one. */
    void finish() {
      List<RedisServer> order = new ArrayList<>(List.of(target, source));
      cluster.nodes().stream().filter(node -> !order.contains(node)).forEach(order::add);
      for (RedisServer node : order) {
        assertThat(node.cli("cluster", "setslot", Integer.toString(slot), "node", targetId)).contains("OK");
      }
    }

    /** Completes the migration, whichever step it is at (again, if it is complete). */
    @Override
    public void close() {
      if (!keysInSlot(source).isEmpty()) {
        moveKeys();
      }
      finish();
    }

    List<String> keysInSlot(RedisServer node) {
      String out = node.cli("cluster", "getkeysinslot", Integer.toString(slot), "1000").trim();
      return out.isEmpty() ? List.of() : Arrays.stream(out.split("\n")).map(String::trim).sorted().toList();
    }
  }
}
