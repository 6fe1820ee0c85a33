package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.lettuce.core.RedisURI;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.LogCapture;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A standalone Redis with a replica, watched by three Sentinels, the store given the Sentinels
 * ({@code redis-sentinel://...#mymaster}) and never the master's address, through a failover: the
 * master killed (the Sentinels agree it is down, elect a leader and promote the replica), and a
 * failover asked of a Sentinel while the master still runs ({@code SENTINEL FAILOVER}), which the
 * store follows when the Sentinels announce it ({@code +switch-master}), not when Sentinel demotes
 * the old master seconds later. Either way the store never throws, the default failure policy
 * (local fallback) answers while no master answers, and once connected to the promoted replica
 * the store counts there, from the counts it replicated, sending the script again ({@code
 * NOSCRIPT} → {@code EVAL}): the replica never had it.
 *
 * <p>Time is the test's: the script and the fallback run on a fake clock (no refill), the circuit
 * on a ticker the test moves when it wants a probe. Only replication, the Sentinels' failover and
 * Lettuce's reconnection take real time, polled with a deadline.
 */
class SentinelFailoverTest {
  private static final String MASTER_NAME = "mymaster";
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("tokens", 100, Duration.ofHours(1)));
  /** The plan of the calls that probe the open circuit, on a key of their own. */
  private static final QuotaPlan PROBE = QuotaPlan.of(QuotaLimit.tokenBucket("probe", 1_000_000, Duration.ofSeconds(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);
  /**
   * Quick Sentinels: a master is down after 500 ms without an answer. The failover timeout also
   * bounds how long a failover that stalls takes before another Sentinel retries it.
   */
  private static final Map<String, String> SENTINEL_SETTINGS =
      Map.of("down-after-milliseconds", "500", "failover-timeout", "5000");

  private final FakeClock clock = FakeClock.standard();
  private final AtomicLong nanos = new AtomicLong();
  private final QuotaKey key = QuotaKey.forTenant("sentinel-" + UUID.randomUUID(), "digits");
  private final QuotaKey probe = QuotaKey.forTenant("probe-" + UUID.randomUUID(), "digits");
  private final String redisKey = RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:tokens:t3600";
  private final String probeKey = RedisQuotaStore.DEFAULT_PREFIX + "{" + probe.partition() + "}:probe:t1";
  private RedisServer master;
  private RedisServer replica;
  private final List<RedisServer> sentinels = new ArrayList<>();

  @BeforeEach
  void startMasterReplicaAndSentinels() {
    // Full syncs at once (by default a master waits 5 s for more replicas to share one): the first
    // one, and the old master's from the new one once Sentinel has demoted it.
    master = RedisServer.start(List.of("--repl-diskless-sync-delay", "0"));
    replica = RedisServer.start(List.of("--repl-diskless-sync-delay", "0",
        "--replicaof", "127.0.0.1", Integer.toString(master.port())));
    for (int i = 0; i < 3; i++) {
      sentinels.add(RedisServer.startSentinel(MASTER_NAME, master, 2, SENTINEL_SETTINGS));
    }
    // A failover needs each Sentinel to know the replica and a majority of the others.
    for (RedisServer sentinel : sentinels) {
      Poll.until("Sentinel " + sentinel.port() + " knows the replica and the other Sentinels", () -> {
        String state = sentinel.cli("sentinel", "master", MASTER_NAME);
        return state.contains("num-slaves\n1\n") && state.contains("num-other-sentinels\n2\n");
      });
    }
  }

  @AfterEach
  void stopServers() {
    sentinels.forEach(RedisServer::close);
    replica.close();
    master.close();
  }

  private RedisQuotaStore store() {
    String addresses = sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","));
    return store("redis-sentinel://" + addresses + "#" + MASTER_NAME);
  }

  private RedisQuotaStore store(String uri) {
    // The failure policy is left at its default, localFallback(1).
    RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create(uri))
        .clientTimeForTesting(clock)
        .timeout(Duration.ofMillis(500))
        .openDuration(OPEN)
        .circuitTicker(nanos::get)
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("the master the Sentinels name answers").isTrue();
    return store;
  }

  @Test
  void aKilledMasterIsAnOutageUntilTheSentinelsPromoteTheReplicaThenCountingResumesThereWithItsCounts() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO); RedisQuotaStore store = store()) {
      take(store, 10, false, 90);
      assertThat(master.cli("exists", redisKey).trim()).as("counted on the master the Sentinels named").isEqualTo("1");
      awaitReplicaCaughtUp();
      assertThat(replica.cli("script", "exists", RedisScriptStore.SHA).trim()).as("a replica has no script").isEqualTo("0");

      master.kill();
      for (int i = 0; i < 3; i++) {
        take(store, 1, true, 99 - i); // connection lost: the fallback's full quota, on this node's share
      }
      assertThat(store.circuitState()).as("three failures in a row").isEqualTo(CircuitState.OPEN);
      long callsBefore = store.redisCalls();
      take(store, 1, true, 96);
      assertThat(store.redisCalls()).as("the open circuit leaves Redis alone").isEqualTo(callsBefore);

      // One probe per open interval until Lettuce, asking the Sentinels, reaches the promoted replica.
      OutageDrill.awaitRedis(store, nanos, OPEN, probe, PROBE);
      assertThat(sentinels.get(0).cli("sentinel", "get-master-addr-by-name", MASTER_NAME))
          .contains(Integer.toString(replica.port()));
      take(store, 1, false, 89); // the replicated count, carried over
      take(store, 1, false, 88);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(replica.cli("info", "commandstats")).as("NOSCRIPT sent the script itself once: EVAL")
          .contains("cmdstat_eval:calls=1,");
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString().contains("circuit open");
      assertThat(logged.messagesAt(Level.INFO)).as("the Sentinels' announcement, then Redis answering").hasSize(2)
          .anySatisfy(m -> assertThat(m).contains("'" + MASTER_NAME + "'").contains("127.0.0.1:" + replica.port()))
          .anySatisfy(m -> assertThat(m).contains("answers again"));
    }
  }

  @Test
  void aFailoverAskedOfASentinelIsFollowedWhenTheSentinelsAnnounceItNotWhenTheOldMasterIsDemoted() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO); RedisQuotaStore store = store()) {
      take(store, 10, false, 90);
      String replicated = master.cli("get", redisKey).trim(); // the token bucket's state: a time
      awaitReplicaCaughtUp();

      assertThat(sentinels.get(0).cli("sentinel", "failover", MASTER_NAME)).contains("OK");
      for (RedisServer sentinel : sentinels) {
        Poll.until("Sentinel " + sentinel.port() + " names the promoted replica", () ->
            sentinel.cli("sentinel", "get-master-addr-by-name", MASTER_NAME).contains(Integer.toString(replica.port())));
      }
      // Each Sentinel has announced the new master (+switch-master) by now. Sentinel leaves the old
      // master alone, accepting writes, until it sees it still claim to be a master, some 8 to 10 s
      // later, and only then demotes it and closes its clients' connections. The store follows the
      // announcement: a decision made now, with the old master still a master, is counted on the
      // new one (polled: the announcement reaches the store on its own connections).
      Poll.until("a decision is counted on the promoted replica", () -> {
        store.acquire(probe, PROBE, 1);
        return replica.cli("exists", probeKey).trim().equals("1");
      });
      assertThat(master.cli("role")).as("the old master, not yet demoted: the store left it first").startsWith("master");
      take(store, 1, false, 89); // on the new master, from the replicated count
      assertThat(master.cli("get", redisKey).trim()).as("nothing counted on the old master after the promotion")
          .isEqualTo(replicated);

      // Sentinel demotes the old master (REPLICAOF and CLIENT KILL): the store is no longer there.
      Poll.until("the old master replicates the new one", () -> {
        String info = master.cli("info", "replication");
        return info.contains("master_port:" + replica.port()) && info.contains("master_link_status:up")
            && info.contains("master_sync_in_progress:0");
      });
      take(store, 1, false, 88); // nothing lost
      take(store, 1, false, 87);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(replica.cli("info", "commandstats")).as("NOSCRIPT sent the script itself once: EVAL")
          .contains("cmdstat_eval:calls=1,");
      assertThat(logged.messagesAt(Level.WARN)).as("no call failed").isEmpty();
      assertThat(logged.messagesAt(Level.INFO)).singleElement().asString()
          .contains("'" + MASTER_NAME + "'").contains("127.0.0.1:" + replica.port());
    }
  }

  /**
   * A {@code +switch-master} naming the replica, announced by a real Sentinel whose view the others
   * do not share: the store asks the Sentinels and stays on the master a majority of them names.
   *
   * <p>The fourth Sentinel is cut off from the other three as a partition would: it reaches the
   * master and the replica as a user that may neither publish nor subscribe there, so it never
   * hears the others' hello messages, nor they its. A hello message published on it (a Sentinel
   * accepts {@code PUBLISH} on its hello channel: it is how the others reach it) from an invented
   * Sentinel, with a newer configuration epoch naming the replica as the master, makes it adopt
   * that view and announce it, as a Sentinel replaying an old failover or left behind by a newer
   * one would: a real {@code +switch-master} of a demoted node. Asked, it names the replica too.
   */
  @Test
  void anAnnouncementOfTheReplicaAsMasterThatOnlyTheAnnouncingSentinelConfirmsIsNotFollowed() {
    for (RedisServer node : List.of(master, replica)) {
      assertThat(node.cli("acl", "setuser", "cut-off", "on", ">cut-off-secret", "~*", "resetchannels", "+@all",
          "-publish").trim()).isEqualTo("OK");
    }
    try (RedisServer cutOff = RedisServer.startSentinel(MASTER_NAME, master, 2,
            Map.of("auth-user", "cut-off", "auth-pass", "cut-off-secret"));
        LogCapture logged = LogCapture.of("io.modelguard", Level.DEBUG)) {
      String addresses = sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","));
      try (RedisQuotaStore store = store("redis-sentinel://" + addresses + ",127.0.0.1:" + cutOff.port() + "#"
          + MASTER_NAME)) {
        take(store, 10, false, 90);
        assertThat(master.cli("exists", redisKey).trim()).as("counted on the master").isEqualTo("1");
        Poll.until("the store is subscribed to the fourth Sentinel", () ->
            cutOff.cli("client", "list").contains(" sub=1 "));

        String hello = String.join(",", "127.0.0.1", Integer.toString(RedisServer.freePort()),
            "0123456789abcdef0123456789abcdef01234567", "1000", MASTER_NAME, "127.0.0.1",
            Integer.toString(replica.port()), "1000");
        assertThat(cutOff.cli("publish", "__sentinel__:hello", hello).trim()).isEqualTo("1");
        assertThat(cutOff.cli("sentinel", "get-master-addr-by-name", MASTER_NAME))
            .as("the fourth Sentinel names the replica and has announced it").contains(Integer.toString(replica.port()));
        for (RedisServer sentinel : sentinels) {
          assertThat(sentinel.cli("sentinel", "get-master-addr-by-name", MASTER_NAME))
              .contains(Integer.toString(master.port()));
        }

        Poll.until("the store has taken the announcement in", () -> logged.messages().stream()
            .anyMatch(m -> m.contains("not following") || m.contains("as master '" + MASTER_NAME + "'")));
        assertThat(logged.messagesAt(Level.INFO)).as("no new master followed").isEmpty();
        assertThat(logged.messagesAt(Level.DEBUG)).filteredOn(m -> m.contains("not following")).singleElement()
            .asString().contains("127.0.0.1:" + master.port());
        take(store, 1, false, 89); // still counted on the master, not refused by the replica
        take(store, 1, false, 88);
        assertThat(replica.cli("role")).startsWith("slave");
        assertThat(logged.messagesAt(Level.WARN)).as("no call failed").isEmpty();
      }
    }
  }

  @Test
  void aReadOnlyReplyBehindSentinelsIsLoggedWithTheMastersNameNotAnAddress() {
    // A Sentinel told to monitor the replica as a master names it as one until it gives up on it.
    try (RedisServer misled = RedisServer.startSentinel("misled", replica, 1, Map.of());
        LogCapture logged = LogCapture.of("io.modelguard", Level.DEBUG);
        RedisQuotaStore store = store("redis-sentinel://127.0.0.1:" + misled.port() + "#misled")) {
      take(store, 1, true, 99); // READONLY: the fallback answers
      assertThat(logged.messagesAt(Level.DEBUG)).filteredOn(m -> m.contains("READONLY")).singleElement().asString()
          .contains("'misled'").contains("127.0.0.1:" + misled.port()).doesNotContain("null");
    }
  }

  /** Takes {@code cost} units of the key, checking which store decided and how many units are left. */
  private void take(RedisQuotaStore store, long cost, boolean byFallback, long remaining) {
    QuotaDecision d = store.acquire(key, PLAN, cost);
    assertThat(d.isAllowed()).as("allowed: %s", d).isTrue();
    assertThat(d.isDegraded()).as("decided by the fallback: %s", d).isEqualTo(byFallback);
    assertThat(d.remaining(0)).as("remaining: %s", d).isEqualTo(remaining);
  }

  /**
   * Waits until the replica has applied everything the master wrote (its replication offset has
   * reached the master's), so that the failover promotes a replica with the count.
   */
  private void awaitReplicaCaughtUp() {
    long written = offset(master.cli("info", "replication"), "master_repl_offset:");
    assertThat(written).as("the master wrote").isPositive();
    Poll.until("the replica reaches the master's offset " + written,
        () -> offset(replica.cli("info", "replication"), "slave_repl_offset:") >= written);
  }

  private static long offset(String info, String field) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).trim());
      }
    }
    return -1;
  }
}
