package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.lettuce.core.RedisURI;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.LogCapture;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A standalone Redis with a replica, the store given the master's address, through a failover:
 * the address turned into a read-only replica (its every script call refused with {@code
 * READONLY}), the address moved to the promoted replica (a DNS name or a managed service's primary
 * endpoint, here a loopback proxy that leads new connections to the new master while the open ones
 * stay with the old), and the master killed and restarted on its port. Either way the store never throws,
 * the default failure policy (local fallback) answers, the breaker opens after three failures and
 * then leaves Redis alone but for one probe per open interval, one WARN tells the operator what
 * happened however long it lasts, and once the address is a master again the store counts in
 * Redis again, exactly.
 *
 * <p>Time is the test's: the script and the fallback run on a fake clock (no refill), the circuit
 * on a ticker the test moves when it wants a probe. Only replication and Lettuce's reconnection
 * take real time, polled with a deadline.
 */
class RedisReplicationFailoverTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("tokens", 100, Duration.ofHours(1)));
  /** The plan of the calls that probe the open circuit, on a key of their own. */
  private static final QuotaPlan PROBE = QuotaPlan.of(QuotaLimit.tokenBucket("probe", 1_000_000, Duration.ofSeconds(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);

  private final FakeClock clock = FakeClock.standard();
  private final AtomicLong nanos = new AtomicLong();
  private final QuotaKey key = QuotaKey.forTenant("failover-" + UUID.randomUUID(), "digits");
  private final QuotaKey probe = QuotaKey.forTenant("probe-" + UUID.randomUUID(), "digits");
  private RedisServer master;
  private RedisServer replica;

  @BeforeEach
  void startMasterAndReplica() {
    master = RedisServer.start();
    replica = RedisServer.start(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
    awaitReplicating(replica, master);
  }

  @AfterEach
  void stopServers() {
    replica.close();
    master.close();
  }

  private RedisQuotaStore store() {
    return store(master.url());
  }

  private RedisQuotaStore store(String url) {
    // The failure policy is left at its default, localFallback(1).
    RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create(url))
        .clientTimeForTesting(clock)
        .timeout(Duration.ofMillis(500))
        .openDuration(OPEN)
        .circuitTicker(nanos::get)
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("Redis answers").isTrue();
    return store;
  }

  @Test
  void aMasterTurnedReadOnlyReplicaIsAnOutageUntilItIsPromotedBackWithItsCounts() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO); RedisQuotaStore store = store()) {
      take(store, 10, false, 90);
      awaitReplicaHasTheCount();

      // Failover: the replica promoted, the old master (the store's address) demoted to its replica.
      assertThat(replica.cli("replicaof", "no", "one")).contains("OK");
      assertThat(master.cli("replicaof", "127.0.0.1", Integer.toString(replica.port()))).contains("OK");
      awaitReplicating(master, replica);

      long callsBefore = store.redisCalls();
      for (int i = 0; i < 3; i++) {
        take(store, 1, true, 99 - i); // READONLY: the fallback's full quota, on this node's share
      }
      assertThat(store.redisCalls() - callsBefore).isEqualTo(3);
      assertThat(store.circuitState()).as("three READONLY replies in a row").isEqualTo(CircuitState.OPEN);
      take(store, 1, true, 96);
      assertThat(store.redisCalls() - callsBefore).as("the open circuit leaves Redis alone").isEqualTo(3);

      // Two minutes of probes, one a second, every one refused: the log does not grow with them.
      for (int i = 0; i < 120; i++) {
        nanos.addAndGet(OPEN.toNanos());
        assertThat(store.acquire(probe, PROBE, 1).isDegraded()).as("probe %d", i).isTrue();
        assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
      }
      assertThat(store.redisCalls() - callsBefore).as("one probe per open interval").isEqualTo(3 + 120);
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString()
          .contains("circuit open").contains("READONLY").contains("LOCAL_FALLBACK(1)");
      assertThat(logged.messagesAt(Level.INFO)).isEmpty();

      // The old master promoted back: its count is the one the other node replicated to it.
      assertThat(master.cli("replicaof", "no", "one")).contains("OK");
      assertThat(replica.cli("replicaof", "127.0.0.1", Integer.toString(master.port()))).contains("OK");
      nanos.addAndGet(OPEN.toNanos());
      take(store, 1, false, 89);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      take(store, 1, false, 88);
      assertThat(logged.messagesAt(Level.INFO)).singleElement().asString().contains("answers again");
      assertThat(logged.messagesAt(Level.WARN)).hasSize(1);
    }
  }

  @Test
  void aFailoverThatMovesTheAddressToThePromotedReplicaIsFollowedByTheNextCall() {
    try (ReplyDroppingProxy address = new ReplyDroppingProxy(master.port());
        RedisQuotaStore store = store("redis://127.0.0.1:" + address.port())) {
      take(store, 10, false, 90);
      awaitReplicaHasTheCount();

      failOver();
      address.forwardNewConnectionsTo(replica.port()); // the store's connection stays with the old master

      // Lettuce does not reconnect on READONLY: the connection the store keeps would be refused for ever.
      take(store, 1, true, 99);
      take(store, 1, false, 89); // a new connection, through the address, to the new master and its count
      take(store, 1, false, 88);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(address.connectionsAccepted()).as("one reconnection").isEqualTo(2);
    }
  }

  @Test
  void aReplicaAtTheAddressIsReconnectedToOncePerProbeUntilTheAddressLeadsToTheNewMaster() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO);
        ReplyDroppingProxy address = new ReplyDroppingProxy(master.port());
        RedisQuotaStore store = store("redis://127.0.0.1:" + address.port())) {
      take(store, 10, false, 90);
      awaitReplicaHasTheCount();
      assertThat(address.connectionsAccepted()).isEqualTo(1);

      failOver(); // the address still leads to the old master, a replica now (DNS not updated yet)
      for (int i = 0; i < 3; i++) {
        take(store, 1, true, 99 - i);
      }
      assertThat(store.circuitState()).as("three READONLY replies in a row").isEqualTo(CircuitState.OPEN);
      assertThat(address.connectionsAccepted()).as("one reconnection in the open interval, not one a call")
          .isEqualTo(2);

      for (int i = 1; i <= 5; i++) {
        nanos.addAndGet(OPEN.toNanos());
        take(store, 1, true, 97 - i); // the probe: READONLY again
        assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
        assertThat(address.connectionsAccepted()).as("probe %d: one reconnection an open interval", i)
            .isEqualTo(1 + i);
      }

      address.forwardNewConnectionsTo(replica.port());
      nanos.addAndGet(OPEN.toNanos());
      take(store, 1, false, 89); // the probe, on a new connection: the new master and its count
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      take(store, 1, false, 88);
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString().contains("circuit open").contains("READONLY");
      assertThat(logged.messagesAt(Level.INFO)).singleElement().asString().contains("answers again");
    }
  }

  @Test
  void aKilledMasterRestartedOnItsPortIsCountedInAgainFromEmptyCountsAndGetsTheScriptAgain() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO); RedisQuotaStore store = store()) {
      take(store, 10, false, 90);

      master.kill();
      for (int i = 0; i < 3; i++) {
        take(store, 1, true, 99 - i);
      }
      assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
      for (int i = 0; i < 120; i++) {
        nanos.addAndGet(OPEN.toNanos());
        assertThat(store.acquire(probe, PROBE, 1).isDegraded()).as("probe %d", i).isTrue();
      }
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString().contains("circuit open");

      master.restart(); // no persistence: empty counts, and no script in its cache
      assertThat(master.cli("script", "exists", RedisScriptStore.SHA).trim()).isEqualTo("0");
      awaitRedis(store);
      take(store, 1, false, 99); // the count restarted empty
      take(store, 1, false, 98);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(master.cli("script", "exists", RedisScriptStore.SHA).trim())
          .as("NOSCRIPT sent the script itself once: EVAL").isEqualTo("1");
      assertThat(master.cli("info", "commandstats")).contains("cmdstat_eval:calls=1,");
      assertThat(logged.messagesAt(Level.INFO)).singleElement().asString().contains("answers again");
    }
  }

  /** Promotes the replica and makes the master its replica, as a managed service's failover does. */
  private void failOver() {
    assertThat(replica.cli("replicaof", "no", "one")).contains("OK");
    assertThat(master.cli("replicaof", "127.0.0.1", Integer.toString(replica.port()))).contains("OK");
    awaitReplicating(master, replica);
  }

  /** Takes {@code cost} units of the key, checking which store decided and how many units are left. */
  private void take(RedisQuotaStore store, long cost, boolean byFallback, long remaining) {
    QuotaDecision d = store.acquire(key, PLAN, cost);
    assertThat(d.isAllowed()).as("allowed: %s", d).isTrue();
    assertThat(d.isDegraded()).as("decided by the fallback: %s", d).isEqualTo(byFallback);
    assertThat(d.remaining(0)).as("remaining: %s", d).isEqualTo(remaining);
  }

  /** Lets the open circuit probe, on the probe key, until a probe reaches the restarted Redis. */
  private void awaitRedis(RedisQuotaStore store) {
    OutageDrill.awaitRedis(store, nanos, OPEN, probe, PROBE);
  }

  /**
   * Waits until the replica holds the master's count of the key. ({@code WAIT} from {@code
   * redis-cli} returned at once: it waits for the writes of its own connection, which wrote none, so
   * a failover on a busy machine could promote a replica the count had not reached yet.)
   */
  private void awaitReplicaHasTheCount() {
    String name = RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:tokens:t3600";
    String count = master.cli("get", name).trim();
    assertThat(count).as("the master has the count").isNotEmpty();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!replica.cli("get", name).trim().equals(count)) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("the replica never got the count " + count + " of " + name);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  /** Waits until {@code node} is a replica of {@code of} with its link up and the data synced. */
  private static void awaitReplicating(RedisServer node, RedisServer of) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String info = node.cli("info", "replication");
      if (info.contains("master_port:" + of.port()) && info.contains("master_link_status:up")
          && info.contains("master_sync_in_progress:0")) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("no replication from " + of.port() + " to " + node.port() + ": " + info);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }
}
