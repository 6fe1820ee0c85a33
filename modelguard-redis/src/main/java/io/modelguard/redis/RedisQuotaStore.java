package io.modelguard.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisServerAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.ResilientQuotaStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quota store for many JVMs: state in Redis (standalone or Cluster), one atomic Lua script per
 * decision, timed by Redis's own clock. Exact across JVMs: the script reads, decides and writes in
 * one step, so there is no read-then-write race and no client clock skew.
 *
 * <pre>{@code
 * RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create("redis://127.0.0.1:6379"))
 *     .timeout(Duration.ofMillis(100))
 *     .failurePolicy(FailurePolicy.localFallback(4)) // four gateway nodes
 *     .build();
 * }</pre>
 *
 * <h2>Keys</h2>
 *
 * One key per limit: {@code <prefix>{<partition>}:<name>:<algorithm><window>}, where the
 * algorithm is {@code t} (token bucket) or {@code s} (sliding window) and the window is in
 * seconds, for example {@code mg:q:{t:acme:digits}:burst:t1} and {@code
 * mg:q:{t:acme:digits}:daily:s86400}. The hash tag puts all limits of one tenant × model in one
 * Cluster slot, so the multi-key script runs on Redis Cluster. Every key has a TTL (until its
 * state is back to a full quota, plus one second); a key back to full is deleted.
 *
 * <p>Each script call also sets a <em>replay guard</em> in the same slot, {@code
 * <prefix>{<partition>}:c:<store instance>:<call number>} (the instance a random 128-bit id, in
 * URL-safe Base64, drawn when the store is built), which lives for the replay window: four times
 * the {@link Builder#timeout(Duration) timeout}, at least 10 s, and holds the call's reply. A call
 * finding its guard there ran already and gets that reply again (see <em>When Redis fails</em>).
 * The guards cost memory in proportion to the rate of script calls: about 150 bytes each, plus the
 * reply, some 20 bytes per decision and limit; so 5,000 calls a second of 12 decisions on a
 * one-limit plan (a hot key's coalesced calls at 60,000 decisions a second) hold about 23 MB at the
 * 10 s window (7.5 MB without the replies). A guard never has the name of a limit's key: limit
 * names contain no colon, so a limit's key has one colon after the hash tag's, a guard two.
 *
 * <p>A limit's count belongs to its name, algorithm and window, as in {@link
 * io.modelguard.quota.InMemoryQuotaStore}: a limit redefined under the same name (a tier changed
 * on a live deployment, or a principal's override claim defining the name otherwise) starts from
 * a full quota under its own key, while the old definition's key keeps its count until it
 * expires, for any plan that still uses it. A changed quota alone keeps the count.
 *
 * <p><b>Upgrading</b> from a version whose keys ended at the limit name (such as {@code
 * mg:q:{t:acme:digits}:daily}) changes every key name: counts restart from a full quota once, and
 * while old and new versions run side by side each counts apart. The old keys expire by their TTL.
 *
 * <p>A sliding window's key is a hash of its window index and two counts (fields {@code i}, {@code
 * c}, {@code p}) and, only after a clock step back moved it back, a mark
 * ({@code g}) telling refunds which windows its counts were charged in ({@link
 * io.modelguard.quota.QuotaArithmetic}, <i>A clock that steps back</i>). A key without the mark,
 * as every earlier version wrote it, reads as unmarked: exactly what it meant to that version, a
 * window not moved back, or moved back without a record, whose refunds are matched by index as
 * that version matched them until the moved window has passed. An earlier version reading a marked
 * key during a rolling upgrade refuses it as a field too many ({@code MGBADSTATE}, below) until
 * Redis's clock reaches the second window after the one the counts were moved back from, when a
 * newer version's call drops the mark or the key expires (plus the TTL grace): those decisions get
 * the failure policy. Counted on the clock that stepped back, that is up to three windows after a
 * step of less than a window, but the length of the step plus up to two windows after a longer
 * one (an hour's step marks a one-minute window for about an hour).
 *
 * <h2>When Redis fails</h2>
 *
 * <ul>
 *   <li>every call waits at most {@link Builder#timeout(Duration) timeout} (default 100 ms),
 *       connecting included; on a standalone Redis, commands are rejected at once while
 *       disconnected (on Cluster they queue, since node connections open lazily, and the caller
 *       stops waiting at the timeout);
 *   <li>{@link Builder#failureThreshold(int) failureThreshold} consecutive failures (default 3)
 *       open a circuit breaker: for {@link Builder#openDuration(Duration) openDuration} (default 1
 *       s) decisions come from the failure policy without touching Redis; then one call probes.
 *       On a standalone Redis there is one breaker; on Cluster, one per master, which counts only
 *       the failures on the keys of the slots it serves (see below);
 *   <li>the {@link Builder#failurePolicy(FailurePolicy) failure policy} (default {@link
 *       FailurePolicy#localFallback(int) localFallback(1)}) answers meanwhile;
 *   <li>Lettuce reconnects in the background, waiting 10 ms at first and twice as long after each
 *       failed attempt, up to 500 ms; its timer ticks every 100 ms, so it tries every 100 ms at
 *       first and at least every 600 ms. Once Redis answers, the next probe finds it and decisions
 *       count in Redis again. A restarted Redis without persistence starts from empty counts and
 *       an empty script cache, which the first call fills ({@code NOSCRIPT}, then {@code EVAL}).
 *   <li>an error reply that refuses every key is an outage too: {@code READONLY} (after a
 *       failover, the store's connection reaches a replica; see below), {@code OOM}, {@code
 *       LOADING}, {@code BUSY}. A {@code WRONGTYPE} (another client wrote a value of another type
 *       under one of the store's key names), or a value of the right type that the script does not
 *       write ({@code MGBADSTATE}: a count that is no decimal integer, negative or at least
 *       2<sup>53</sup>, a hash field missing or one too many), fails that key's decisions only:
 *       they get the failure policy, the breaker does not count them, and a WARN at most once a
 *       minute names the Redis key to delete ({@link io.modelguard.quota.QuotaKeyStateException}).
 *       Such a value is never read as a full quota.
 *   <li>on Cluster, a {@code TRYAGAIN} (the slot of the call's keys is being migrated to another
 *       master, see below) is no failure at first: the call is sent again after 1 ms, then 2, 4, 8
 *       and every 10 ms, within the timeout. Only if the migration outlasts it do the call's
 *       decisions get the failure policy, as a key's state: the breaker does not count them.
 * </ul>
 *
 * A decision that timed out may still have been applied by Redis (it is then counted but the
 * caller got the failure policy's answer). Adjustments (refunds) are sent asynchronously and
 * dropped on failure. {@link #settle Settlements} go to the store that decided the reservation: a
 * reservation the local fallback made is settled in the fallback even once Redis is back, and one
 * Redis made is dropped while the circuit is open (see {@link ResilientQuotaStore#settle}).
 *
 * <p><b>Each call is applied at most once.</b> On Cluster, Lettuce re-sends a call whose reply was
 * lost with its connection once it has reconnected (up to its own command timeout, twice the
 * store's timeout), and the script's operations are not idempotent. A call the script has run
 * already (its replay guard is there) gets the reply of its first run again, kept in the guard,
 * and changes nothing: a decision so re-sent gets the answer Redis gave it the first time (charged
 * once, if allowed), a refund or forced charge completes as it did (applied, not a dropped
 * settlement). Only if the guard holds no reply the script can read (the first run failed before
 * it kept one, or another client overwrote it) is the call refused with an error starting {@code
 * MGREPLAY}: a decision then fails like any other failed call, so the failure policy answers
 * although Redis may have charged it once (fail-closed: denied but counted), and a refund counts
 * as done. A call lost before Redis ran it runs once when re-sent. The same guard applies on a
 * standalone Redis (where commands are rejected while disconnected, so the call fails instead),
 * against any re-send.
 *
 * <p><b>On a standalone Redis, a failover is followed through the address.</b> A connection
 * whose script call Redis refuses with {@code READONLY} reaches a node a failover demoted to a
 * replica; Lettuce would keep it for good. The store closes it, and the next call (after the
 * breaker opened, its probe) connects to the configured address again, which leads to the promoted
 * replica once a DNS name or a managed service's primary endpoint has moved there (the name is
 * resolved again, through the JVM's DNS cache: {@code networkaddress.cache.ttl}). At most one such
 * reconnection per {@link Builder#openDuration(Duration) openDuration}, so an address that still
 * leads to a replica costs one connection per probe. Calls in flight on the closed connection fail
 * (a replica would refuse them too) and are never re-sent. Given an address, the store does not
 * look for the new master itself: with a fixed address, it is an outage until that node is a
 * master again. (On Cluster a replica answers {@code MOVED}, which Lettuce follows.)
 *
 * <p><b>Behind Redis Sentinel, a failover is followed through the Sentinels.</b> Given a {@code
 * redis-sentinel://} URI (see {@link #builder(RedisURI)}), Lettuce asks the Sentinels for the
 * master on every connection and reconnection, and the store subscribes to every Sentinel's
 * announcements of a new master ({@code +switch-master}, one pub/sub connection per Sentinel). A
 * master that dies is an outage as above (the breaker opens, the failure policy answers, one probe
 * per open duration) until the Sentinels have promoted a replica; the next probe is counted there,
 * from the counts it replicated, and sends the script again ({@code NOSCRIPT} → {@code EVAL}). A
 * master that still runs when the Sentinels promote another node ({@code SENTINEL FAILOVER}) still
 * accepts writes until Sentinel demotes it, some 8 to 10 s later; the store leaves it once the
 * Sentinels announce the new master and a majority of them confirm it. An announcement carries no
 * epoch (one Sentinel may deliver it late, or announce a view the others do not share), so each
 * makes the store ask every Sentinel which node is the master now, and it follows the node more
 * than half of the configured Sentinels name (as soon as that many have named it, without waiting
 * for the others), if that is not the master the announcement says was left, connecting again
 * through a Sentinel that named it (about a second or two after the promotion: a Sentinel
 * announces it once the promoted replica has reported itself a master, the others once they have
 * heard of it); the calls in flight on the old connection get their
 * replies, and it is closed after Lettuce's command timeout. One INFO names the new master. An
 * announcement the store missed (no Sentinel reachable then), or one no majority confirms (most
 * Sentinels unreachable), leaves it on the old master until Sentinel demotes it and closes the
 * connection. Lost in a failover: the units the old master counted that had not reached the
 * promoted replica (replication is asynchronous) and those it counted after the promotion until the
 * store left it; the tenants concerned get them again, once.
 *
 * <p><b>On Cluster, a breaker per master.</b> A decision goes through the breaker of the master
 * that serves its key's slot, as Lettuce sees the topology (the node it sends the command to), so
 * when one master fails while the others answer, that master's breaker opens after {@code
 * failureThreshold} failures on its own keys and its keys get the failure policy at once, while the
 * other masters' keys go on being counted in Redis (their successes do not reset its count). After
 * a failover, once Lettuce has the new topology (it refreshes it every 30 s), the slot's new master
 * is another node with a breaker of its own, closed, so no breaker left open by the old master
 * holds its former keys back. A reservation is settled by its key's master's breaker. Before the
 * first connection, decisions share one breaker for the whole cluster. {@link #circuitState()}
 * tells the worst state of the current masters' breakers, {@link #circuitState(QuotaKey)} the one a
 * key's decisions use.
 *
 * <p><b>On Cluster, a resharding waits.</b> While a slot migrates between masters ({@code
 * CLUSTER SETSLOT ... MIGRATING/IMPORTING}, {@code MIGRATE} of its keys, {@code SETSLOT ... NODE}),
 * Redis refuses every script call of its keys with {@code TRYAGAIN}: a call's keys are never all on
 * one node, since its replay guard is new (the source refuses while it holds some of them; asked,
 * the target refuses while it lacks some). Redis refuses before running the script, so the store
 * sends the same call again, with the same guard, after a short wait, until the earliest timeout of
 * its decisions: a migration shorter than that (a slot of few keys) delays decisions rather than
 * failing them. A longer one fails them with the failure policy's answer until it ends, but counts
 * nothing towards the master's breaker: the master answered, and its other slots are decided as
 * usual. Settlements still refused at the timeout are dropped (see {@link #droppedSettlements()}).
 *
 * <p><b>Run it on a Redis of its own with {@code maxmemory-policy noeviction}.</b> A missing key
 * reads as a full quota and every key has a TTL, so eviction under memory pressure (any {@code
 * allkeys-*} or {@code volatile-*} policy), a {@code FLUSHALL} or a restart without persistence
 * gives the tenants whose keys went a full quota again; unauthenticated traffic makes a key per
 * client address, so a client with many addresses can cause the pressure itself. Under {@code
 * noeviction} a full Redis fails the script (OOM) and the failure policy answers instead. {@link
 * #awaitReady} warns when the policy is another one.
 *
 * <h2>Coalescing</h2>
 *
 * Concurrent decisions on one key travel together: while a script call for the key is in flight,
 * later ones queue and go as one batch (up to {@link Builder#maxBatch(int) maxBatch}) in the next
 * call, where the script applies them in order. Counting stays exact; a hot key costs one round
 * trip per batch rather than per decision.
 *
 * <p>Thread-safe. {@link #close()} releases the connection and the client this store created.
 */
public final class RedisQuotaStore implements QuotaStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisQuotaStore.class);
  private static final String MAXMEMORY_POLICY = "maxmemory-policy";
  private static final String NOEVICTION = "noeviction";
  /** The default key prefix. */
  public static final String DEFAULT_PREFIX = "mg:q:";
  /**
   * On Cluster, the breaker scope of keys whose master this client does not know yet: before the
   * first connection, or for a slot no master serves in its view of the topology.
   */
  private static final String UNKNOWN_MASTER = "Redis Cluster (master not known yet)";
  /** The shortest a script call's replay guard lives in Redis (see the class comment). */
  private static final Duration REPLAY_WINDOW_MIN = Duration.ofSeconds(10);

  private final AbstractRedisClient client;
  private final RedisResources resources;
  private final boolean cluster;
  private final RedisScriptStore script;
  private final ResilientQuotaStore resilient;
  private final AtomicReference<CompletableFuture<Connected>> connection = new AtomicReference<>();
  private final RedisURI first;
  /** Given Sentinels (on a standalone store): follows their announcements of a new master; else null. */
  private final SentinelWatch sentinelWatch;
  /**
   * How long a connection the store left for a new master stays open, so that calls in flight on
   * it end with their replies rather than fail: Lettuce's command timeout, after which none is.
   */
  private final Duration leftConnectionGrace;
  /** The breaker's ticker, which also spaces the reconnections a {@code READONLY} reply makes. */
  private final LongSupplier ticker;
  /** The least time between two such reconnections: the breaker's open duration. */
  private final long reconnectIntervalNanos;
  /** The ticker time of the last such reconnection (one interval before the store was built, if none). */
  private final AtomicLong readOnlyReconnectedAt;
  private volatile boolean closed;

  private RedisQuotaStore(Builder b) {
    this.cluster = b.cluster;
    this.resources = RedisResources.of(b.resources);
    Duration connectTimeout = b.timeout.compareTo(Duration.ofMillis(500)) < 0 ? Duration.ofMillis(500) : b.timeout;
    SocketOptions socket = SocketOptions.builder().connectTimeout(connectTimeout).build();
    // Lettuce's own timeout only frees abandoned commands; callers stop waiting at b.timeout.
    Duration commandTimeout = b.timeout.multipliedBy(2);
    TimeoutOptions timeouts = TimeoutOptions.enabled(commandTimeout);
    // Lettuce re-sends an unanswered command after a reconnect only until its own timeout (it never
    // writes a command that has timed out): a replay guard twice as long, at least 10 s, outlives
    // it and any request still on its way in a socket buffer.
    long replayWindowMillis = Math.max(REPLAY_WINDOW_MIN.toMillis(), commandTimeout.multipliedBy(2).toMillis());
    if (cluster) {
      RedisClusterClient c;
      try {
        c = RedisClusterClient.create(resources.resources(), b.uris);
      } catch (RuntimeException e) {
        // Lettuce refused the seeds (they disagree on TLS, say): nobody will close a store never
        // returned, so the resources it made for itself stop here.
        resources.release();
        throw e;
      }
      c.setOptions(ClusterClientOptions.builder()
          .autoReconnect(true)
          // Node connections open lazily, so commands must queue while one connects; callers still
          // stop waiting at the timeout and Lettuce's own timeout drops what stays queued. Queuing
          // also re-sends a call whose reply was lost: the script's replay guard answers it with
          // the reply of its first run, changing nothing.
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
          .socketOptions(socket)
          .timeoutOptions(timeouts)
          .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
              .enablePeriodicRefresh(Duration.ofSeconds(30))
              .build())
          .build());
      this.client = c;
    } else {
      RedisClient c = RedisClient.create(resources.resources());
      c.setOptions(ClientOptions.builder()
          .autoReconnect(true)
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .socketOptions(socket)
          .timeoutOptions(timeouts)
          .build());
      this.client = c;
    }
    RedisURI first = b.uris.get(0);
    this.first = first;
    this.leftConnectionGrace = commandTimeout;
    this.sentinelWatch = !cluster && SentinelWatch.applies(first)
        // A Sentinel asked to confirm an announcement answers within a connection's and a command's timeout.
        ? new SentinelWatch((RedisClient) client, first, connectTimeout.plus(commandTimeout), this::masterSwitched)
        : null;
    this.ticker = b.ticker;
    this.reconnectIntervalNanos = b.openDuration.toNanos();
    this.readOnlyReconnectedAt = new AtomicLong(ticker.getAsLong() - reconnectIntervalNanos);
    // On Cluster a replica answers a key's command with MOVED, which Lettuce follows; READONLY
    // means a standalone connection that leads to a replica now.
    RedisScriptStore.ReadOnlyReplies readOnly = cluster ? refused -> {} : this::reconnectAfterReadOnly;
    this.script = new RedisScriptStore(this::commands, b.prefix, b.timeout.toNanos(), b.clientClock,
        b.coalescing, b.maxBatch, this::droppedAdjustment, RedisScriptStore.randomInstanceId(), replayWindowMillis,
        readOnly);
    ResilientQuotaStore.Builder resilient = ResilientQuotaStore.builder(script)
        .failurePolicy(b.failurePolicy)
        .failureThreshold(b.failureThreshold)
        .openDuration(b.openDuration)
        .ticker(b.ticker)
        .clock(b.clientClock == null ? Clock.systemUTC() : b.clientClock);
    this.resilient = (cluster ? resilient.breakerScope(this::masterOf) : resilient).build();
  }

  /**
   * Starts a builder for a standalone Redis at {@code uri}, for example {@code
   * redis://127.0.0.1:6379}, or for the master a set of Redis Sentinels monitors: {@code
   * redis-sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379#mymaster} (every Sentinel, then
   * the master's name), or such a URI built with {@link RedisURI.Builder#sentinel(String, int,
   * String)}. With Sentinels the store connects to the master they name, asks them again whenever
   * it reconnects, listens to every Sentinel for its announcement of a new master and connects to
   * it once a majority of the Sentinels, asked then, name it, and so follows their failovers (see
   * the class comment for what one costs).
   *
   * @param uri a {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI; not null
   * @return a new builder with the defaults
   */
  public static Builder builder(RedisURI uri) {
    return new Builder(List.of(Objects.requireNonNull(uri, "uri")), false);
  }

  /**
   * New Lettuce {@link ClientResources} set up as a store or a {@link RedisRiskExchange} sets up its
   * own when given none: reconnecting every 10 to 500 ms ({@code Delay.exponential(10 ms, 500 ms)}),
   * where Lettuce's default backs off to 30 s. For one set that several clients share ({@link
   * Builder#clientResources}); the caller owns it and shuts it down after closing them all.
   *
   * @return new resources, owned by the caller
   */
  public static ClientResources newClientResources() {
    return ClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS))
        .build();
  }

  /**
   * Starts a builder for a Redis Cluster reached through any of {@code seeds}.
   *
   * @param seeds the URIs of one or more of the cluster's nodes; copied
   * @return a new builder with the defaults
   * @throws IllegalArgumentException if {@code seeds} is null or empty
   */
  public static Builder clusterBuilder(List<RedisURI> seeds) {
    if (seeds == null || seeds.isEmpty()) {
      throw new IllegalArgumentException("RedisQuotaStore: at least one cluster seed URI is required");
    }
    return new Builder(List.copyOf(seeds), true);
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    return resilient.acquire(key, plan, cost);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    resilient.adjust(key, plan, delta, decidedAtMicros);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] bucketEnds) {
    resilient.adjust(key, plan, delta, decidedAtMicros, bucketEnds);
  }

  @Override
  public void settle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    resilient.settle(key, plan, delta, reservation);
  }

  /**
   * {@link #settle}, returning false if it was dropped ({@link ResilientQuotaStore#trySettle});
   * true once Redis was handed it, even if applying it fails later (see {@link
   * #droppedSettlements()}).
   */
  @Override
  public boolean trySettle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    return resilient.trySettle(key, plan, delta, reservation);
  }

  /**
   * Connects and loads the script now, waiting at most {@code timeout}, so the first decisions do
   * not pay for it (on a cold JVM that takes longer than a decision's timeout). Optional: without
   * it, the store connects on first use. Also reads Redis's {@code maxmemory-policy} and logs a
   * WARN unless it is {@code noeviction} (see the class comment; on Cluster, every master's),
   * within the same {@code timeout}. Behind Sentinels, also waits, within it, for the subscriptions
   * to their announcements of a new master (a Sentinel that does not answer is subscribed to on a
   * later connection; it does not make this return false).
   *
   * @param timeout the longest to wait in all, for every step named above; not null
   * @return whether Redis answered in time
   */
  public boolean awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      commands().thenCompose(c -> c.scriptLoad(RedisScriptStore.SCRIPT)).toCompletableFuture()
          .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      if (sentinelWatch != null) {
        // Subscribed to the Sentinels before the first decisions, if they answer in time: a
        // failover announced before then would be followed only when the old master is demoted.
        try {
          sentinelWatch.subscribe().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          log.debug("ModelGuard quota store: not yet subscribed to every Redis Sentinel of {}", describe(first));
        }
      }
      evictionPolicy(Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))).filter(policy -> !policy.equals(NOEVICTION)).ifPresent(policy -> log.warn(
          "ModelGuard quota store: Redis maxmemory-policy is '{}'. Under memory pressure Redis may evict quota "
          + "keys, and a tenant whose keys go gets a full quota again; give the store a Redis of its own with "
          + "maxmemory-policy noeviction.", policy));
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  /**
   * Redis's {@code maxmemory-policy}, or empty if it cannot be read (managed services often
   * disable {@code CONFIG}; then check it in their console). On Cluster, every master's: the first
   * policy other than {@code noeviction} among them, else {@code noeviction}.
   */
  Optional<String> evictionPolicy(Duration timeout) {
    try {
      // One wait for both steps: the connection (at once, if already made) and the command(s).
      Optional<String> policy = commands().thenCompose(c -> {
        if (c instanceof RedisAdvancedClusterAsyncCommands) {
          return mastersPolicy(clusterCommands(c));
        }
        return c instanceof RedisServerAsyncCommands
            ? serverCommands(c).configGet(MAXMEMORY_POLICY).thenApply(config -> Optional.ofNullable(config.get(MAXMEMORY_POLICY)))
            : CompletableFuture.completedFuture(Optional.<String>empty());
      }).toCompletableFuture().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return policy;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.debug("ModelGuard quota store: could not read Redis's maxmemory-policy ({}); make sure it is noeviction",
          e.toString());
      return Optional.empty();
    }
  }

  @SuppressWarnings("unchecked") // both connections' async commands are on String keys and values
  private static RedisServerAsyncCommands<String, String> serverCommands(Object commands) {
    return (RedisServerAsyncCommands<String, String>) commands;
  }

  @SuppressWarnings("unchecked") // the cluster connection's async commands are on String keys and values
  private static RedisAdvancedClusterAsyncCommands<String, String> clusterCommands(Object commands) {
    return (RedisAdvancedClusterAsyncCommands<String, String>) commands;
  }

  /**
   * The eviction policy of every master of the cluster, one {@code CONFIG GET} each (a key may
   * live on any of them): the first that is not {@code noeviction}, else {@code noeviction}; empty
   * if a master did not say.
   */
  private static CompletionStage<Optional<String>> mastersPolicy(RedisAdvancedClusterAsyncCommands<String, String> cluster) {
    CompletableFuture<Map<String, String>>[] answers = cluster.upstream().commands().configGet(MAXMEMORY_POLICY).futures();
    return CompletableFuture.allOf(answers).thenApply(done -> {
      String policy = NOEVICTION;
      for (CompletableFuture<Map<String, String>> answer : answers) {
        String one = answer.join().get(MAXMEMORY_POLICY);
        if (one == null) {
          return Optional.<String>empty();
        }
        if (policy.equals(NOEVICTION)) {
          policy = one;
        }
      }
      return answers.length == 0 ? Optional.<String>empty() : Optional.of(policy);
    });
  }

  /**
   * The circuit breaker's state: on Cluster, the worst of the breakers of the masters that serve
   * slots now ({@code OPEN} if any is open), so a breaker left open by a master a failover replaced
   * does not count, nor, once every slot has a master, the breaker of keys whose master was not
   * known (before the first connection, say).
   *
   * @return {@code CLOSED}, {@code OPEN} or {@code HALF_OPEN}, as the breakers stand now
   */
  public ResilientQuotaStore.CircuitState circuitState() {
    Partitions partitions = partitions();
    if (partitions == null) {
      return resilient.circuitState();
    }
    Set<Object> current = new HashSet<>();
    for (RedisClusterNode node : partitions) {
      if (!node.hasNoSlots()) {
        current.add(scope(node));
      }
    }
    // The breaker of keys whose master is unknown counts only while some slot has no master: once
    // every slot has one, no key's calls go through it, so nothing would ever probe and close it.
    for (int slot = 0; slot < SlotHash.SLOT_COUNT; slot++) {
      if (partitions.getMasterBySlot(slot) == null) {
        current.add(UNKNOWN_MASTER);
        break;
      }
    }
    return resilient.worstCircuitState(current::contains);
  }

  /**
   * The state of the circuit breaker {@code key}'s decisions go through: on Cluster, that of the
   * master serving its slot, as this client sees the topology now.
   *
   * @param key the quota key whose breaker to report
   * @return that breaker's state now
   */
  public ResilientQuotaStore.CircuitState circuitState(QuotaKey key) {
    return resilient.circuitState(key);
  }

  /**
   * How many settlements (refunds, or charges beyond a reservation) and adjustments were lost: those
   * dropped while the breaker was open and those Redis failed to apply (logged at WARN at most once
   * a minute). Each leaves a tenant charged more, or less, than it used.
   *
   * @return the count since the store was built; it only grows
   */
  public long droppedSettlements() {
    return resilient.droppedSettlements();
  }

  /** An adjustment Redis failed to apply after {@code adjust} returned (the calls are asynchronous). */
  private void droppedAdjustment(QuotaKey key, long delta, Throwable cause) {
    resilient.primaryDroppedAdjustment(key, delta, cause);
  }

  /**
   * How many calls reached Redis through the breaker (decisions and adjustments, before coalescing).
   *
   * @return the count since the store was built; it only grows
   */
  public long redisCalls() {
    return resilient.primaryCalls();
  }

  /**
   * How many script calls were sent to Redis (each carries one or more coalesced operations).
   *
   * @return the count since the store was built; it only grows
   */
  public long scriptCalls() {
    return script.scriptCalls();
  }

  /**
   * The breaker scope of {@code key} on Cluster: the master that serves its slot in this client's
   * view of the topology (the one Lettuce sends its commands to), so that after a failover, once
   * the client has the new topology, the promoted master's breaker applies. Its keys' hash tag is
   * {@code {<partition>}} ({@link RedisScriptStore}), and a partition has no braces ({@link
   * QuotaKey}), so their slot is the partition's own.
   */
  private Object masterOf(QuotaKey key) {
    Partitions partitions = partitions();
    // Redis hashes the key's UTF-8 bytes; SlotHash.getSlot(String) would take the JVM's default
    // charset (on Java 17 the locale's, US-ASCII in a container without one) and put a name that
    // is not ASCII in another slot, under another master's breaker.
    RedisClusterNode master = partitions == null ? null
        : partitions.getMasterBySlot(SlotHash.getSlot(key.partition().getBytes(StandardCharsets.UTF_8)));
    return master == null ? UNKNOWN_MASTER : scope(master);
  }

  /** The cluster connection's view of the topology; null before it is made, or on a standalone Redis. */
  private Partitions partitions() {
    CompletableFuture<Connected> c = connection.get();
    if (!cluster || c == null || !c.isDone() || c.isCompletedExceptionally()) {
      return null;
    }
    return ((StatefulRedisClusterConnection<String, String>) c.join().connection).getPartitions();
  }

  /**
   * A master's breaker scope: its node id (a failover promotes a replica, which has another), with
   * its address for the log.
   */
  private static String scope(RedisClusterNode master) {
    RedisURI uri = master.getUri();
    String address = uri == null ? "" : uri.getHost() + ":" + uri.getPort() + " ";
    return "Redis Cluster master " + address + master.getNodeId();
  }

  /** For tests in this package: reloads the Cluster topology now, as the periodic refresh would. */
  void refreshTopology() {
    ((RedisClusterClient) client).refreshPartitions();
  }

  /**
   * Closes the connection and shuts the Redis client down, and its {@link ClientResources} unless
   * the caller gave them ({@link Builder#clientResources}). Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (sentinelWatch != null) {
      sentinelWatch.close();
    }
    CompletableFuture<Connected> c = connection.get();
    if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
      c.join().connection.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.release();
  }

  /**
   * Drops the standalone connection Redis refused a script call on with {@code READONLY}: it leads
   * to a replica (a failover demoted the node it reached), and Lettuce would keep it for good. The
   * next call connects again to the configured address, which may lead to the new master by now (a
   * DNS name or a managed service's endpoint moved to it). At most one reconnection per open
   * duration, so an address that still leads to a replica costs one connection per probe, never a
   * loop of them; and only the connection the call went through, so the refusals of the calls in
   * flight on it drop it once. The calls still in flight on it fail with it (a replica would refuse
   * them too); it is closed, not reconnected, so it re-sends none of them.
   */
  private void reconnectAfterReadOnly(RedisScriptingAsyncCommands<String, String> refused) {
    CompletableFuture<Connected> current = connection.get();
    if (current == null || !current.isDone() || current.isCompletedExceptionally()
        || current.join().commands != refused) {
      return; // that connection was dropped already
    }
    long now = ticker.getAsLong();
    long last = readOnlyReconnectedAt.get();
    if (now - last < reconnectIntervalNanos || !readOnlyReconnectedAt.compareAndSet(last, now)) {
      return;
    }
    if (connection.compareAndSet(current, null)) {
      log.debug("ModelGuard quota store: Redis ({}) answered READONLY (a replica now); reconnecting on the next call",
          describe(first));
      current.join().connection.closeAsync(); // on Lettuce's event loop: must not wait
    }
  }

  /**
   * Leaves the standalone connection for the new master the Sentinels announced and a majority of
   * them confirmed: the next call connects again, asking first a Sentinel that named it ({@link
   * SentinelWatch}). The old
   * master may still accept writes (a failover asked of a Sentinel, or a master the Sentinels lost
   * but the store still reaches) until Sentinel demotes it, some seconds later; what it counts
   * meanwhile is lost when it resyncs. The connection left stays open for {@link
   * #leftConnectionGrace}, so that the calls in flight on it get their replies (counted on the old
   * master, as they were sent) rather than fail and count towards the breaker; Lettuce's command
   * timeout has freed any still unanswered by then.
   */
  private void masterSwitched(String to) {
    log.info("ModelGuard quota store: Redis Sentinels announced {} as master '{}' (confirmed by a majority of them); "
        + "connecting to it", to, first.getSentinelMasterId());
    CompletableFuture<Connected> current = connection.get();
    if (current == null || !connection.compareAndSet(current, null)) {
      return; // not connected, or a new connection is being made, after the Sentinel switched
    }
    current.thenAccept(left -> CompletableFuture.delayedExecutor(leftConnectionGrace.toNanos(), TimeUnit.NANOSECONDS)
        .execute(left.connection::closeAsync));
  }

  /** For the log: the address the store was given, or the master's name and the Sentinels; no credentials. */
  static String describe(RedisURI uri) {
    if (uri.getSentinels().isEmpty()) {
      return uri.getSocket() != null ? uri.getSocket() : uri.getHost() + ":" + uri.getPort();
    }
    StringBuilder s = new StringBuilder("master '").append(uri.getSentinelMasterId()).append("' of Redis Sentinel ");
    for (int i = 0; i < uri.getSentinels().size(); i++) {
      RedisURI sentinel = uri.getSentinels().get(i);
      s.append(i == 0 ? "" : ",").append(sentinel.getHost()).append(':').append(sentinel.getPort());
    }
    return s.toString();
  }

  private CompletionStage<RedisScriptingAsyncCommands<String, String>> commands() {
    while (true) {
      CompletableFuture<Connected> current = connection.get();
      if (current != null && !current.isCompletedExceptionally()) {
        return current.thenApply(c -> c.commands);
      }
      if (closed) {
        return CompletableFuture.failedFuture(new IllegalStateException("RedisQuotaStore is closed"));
      }
      CompletableFuture<Connected> next = new CompletableFuture<>();
      if (connection.compareAndSet(current, next)) {
        if (sentinelWatch != null) {
          sentinelWatch.subscribe(); // to any Sentinel not subscribed to yet; does not wait
        }
        connect(sentinelWatch == null ? first : sentinelWatch.connectUri()).whenComplete((c, e) -> {
          if (e != null) {
            next.completeExceptionally(e);
          } else {
            next.complete(c);
          }
        });
        return next.thenApply(c -> c.commands);
      }
    }
  }

  private CompletionStage<Connected> connect(RedisURI uri) {
    if (cluster) {
      RedisClusterClient c = (RedisClusterClient) client;
      // connectAsync needs the topology first; refreshPartitionsAsync loads it without blocking.
      return c.refreshPartitionsAsync()
          .thenCompose(v -> c.connectAsync(StringCodec.UTF8))
          .thenApply((StatefulRedisClusterConnection<String, String> conn) -> new Connected(conn, conn.async()));
    }
    CompletableFuture<StatefulRedisConnection<String, String>> f =
        ((RedisClient) client).connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
    return f.thenApply(c -> new Connected(c, c.async()));
  }

  private static final class Connected {
    final StatefulConnection<String, String> connection;
    final RedisScriptingAsyncCommands<String, String> commands;

    Connected(StatefulConnection<String, String> connection, RedisScriptingAsyncCommands<String, String> commands) {
      this.connection = connection;
      this.commands = commands;
    }
  }

  /** Builds a {@link RedisQuotaStore}; every setter validates at once. */
  public static final class Builder {
    private final List<RedisURI> uris;
    private final boolean cluster;
    private String prefix = DEFAULT_PREFIX;
    private Duration timeout = Duration.ofMillis(100);
    private FailurePolicy failurePolicy = FailurePolicy.localFallback(1);
    private int failureThreshold = 3;
    private Duration openDuration = Duration.ofSeconds(1);
    private boolean coalescing = true;
    private int maxBatch = 128;
    private Clock clientClock;
    private LongSupplier ticker = System::nanoTime;
    private ClientResources resources;

    private Builder(List<RedisURI> uris, boolean cluster) {
      this.uris = new ArrayList<>(uris);
      this.cluster = cluster;
    }

    /**
     * The prefix of every key. Default {@value RedisQuotaStore#DEFAULT_PREFIX}.
     *
     * @param prefix prepended to every key the store writes, so that several stores can share one
     *     Redis
     * @return this builder
     * @throws IllegalArgumentException if blank or containing a brace
     */
    public Builder keyPrefix(String prefix) {
      if (prefix == null || prefix.isBlank() || prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
        throw new IllegalArgumentException("RedisQuotaStore.keyPrefix must be non-blank without braces, was '" + prefix + "'");
      }
      this.prefix = prefix;
      return this;
    }

    /**
     * The longest a decision waits for Redis, connecting included. Default 100 ms. Also sets how
     * long each call's replay guard lives in Redis: four times this, at least 10 s (see the class
     * comment).
     *
     * @param timeout the per-decision limit, 1 ms to 10 s
     * @return this builder
     * @throws IllegalArgumentException if not between 1 ms and 10 s
     */
    public Builder timeout(Duration timeout) {
      if (timeout == null || timeout.toMillis() < 1 || timeout.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("RedisQuotaStore.timeout must be between 1 ms and 10 s, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * What to answer while Redis is unavailable. Default {@link FailurePolicy#localFallback(int) localFallback(1)}.
     *
     * @param policy fails closed, fails open or falls back to a local store; not null
     * @return this builder
     */
    public Builder failurePolicy(FailurePolicy policy) {
      this.failurePolicy = Objects.requireNonNull(policy, "failurePolicy");
      return this;
    }

    /**
     * Consecutive failures that open the circuit. Default 3.
     *
     * @param threshold the count of failures in a row, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder failureThreshold(int threshold) {
      if (threshold < 1) {
        throw new IllegalArgumentException("RedisQuotaStore.failureThreshold must be at least 1, was " + threshold);
      }
      this.failureThreshold = threshold;
      return this;
    }

    /**
     * How long the circuit stays open before probing Redis again. Default 1 s. On a standalone
     * Redis also the least time between two reconnections after {@code READONLY} replies (see the
     * class comment).
     *
     * @param duration the open period, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder openDuration(Duration duration) {
      if (duration == null || duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("RedisQuotaStore.openDuration must be positive, was " + duration);
      }
      this.openDuration = duration;
      return this;
    }

    /**
     * Whether concurrent decisions on one key share a script call. Default true. Coalescing also
     * keeps one key's operations in order: without it, an asynchronous refund and the same
     * thread's next decision may reach a Cluster node in either order while its connection opens.
     *
     * @param enabled false to send each decision in a script call of its own
     * @return this builder
     */
    public Builder coalescing(boolean enabled) {
      this.coalescing = enabled;
      return this;
    }

    /**
     * The most decisions in one coalesced script call. Default 128.
     *
     * @param maxBatch the batch limit, 1 to 1024
     * @return this builder
     * @throws IllegalArgumentException if not between 1 and 1024
     */
    public Builder maxBatch(int maxBatch) {
      if (maxBatch < 1 || maxBatch > 1024) {
        throw new IllegalArgumentException("RedisQuotaStore.maxBatch must be between 1 and 1024, was " + maxBatch);
      }
      this.maxBatch = maxBatch;
      return this;
    }

    /**
     * The Lettuce {@link ClientResources} (event loops, timers) the store's client runs on, owned
     * by the caller: the store does not shut them down when it closes, so that one set serves
     * several clients (this store and a {@link RedisRiskExchange}, say), and the caller shuts them
     * down after closing all of them. Their reconnect delay applies (Lettuce's default backs off to
     * 30 s; the store by itself uses {@code Delay.exponential(Duration.ofMillis(10),
     * Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS)}).
     * Default: resources of its own, reconnecting every 10–500 ms, shut down by {@link
     * RedisQuotaStore#close}.
     *
     * @param resources the caller's resources, which it must shut down itself; not null
     * @return this builder
     */
    public Builder clientResources(ClientResources resources) {
      this.resources = Objects.requireNonNull(resources, "clientResources");
      return this;
    }

    /**
     * <b>For tests only.</b> Makes the script take the time from {@code clock} instead of Redis
     * {@code TIME}, so a test can move time with a fake clock. Never in production: several nodes'
     * clocks disagree, which breaks exactness. Default: Redis {@code TIME}. A time before 1970,
     * which quota state cannot hold, fails the call (the script's error {@code MGBADTIME}, the
     * failure policy answers) and writes nothing, as the in-memory store refuses it.
     *
     * @param clock the clock whose instant, in microseconds, the script takes as the time; not null
     * @return this builder
     */
    public Builder clientTimeForTesting(Clock clock) {
      this.clientClock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * For tests in this package: the circuit breaker's monotonic time in nanoseconds, so a test
     * decides when the open circuit probes Redis again. Default {@link System#nanoTime()}.
     */
    Builder circuitTicker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the store. It connects on first use (or on {@link RedisQuotaStore#awaitReady}), so it
     * builds even while Redis is down.
     *
     * @return a new store, not connected yet
     */
    public RedisQuotaStore build() {
      return new RedisQuotaStore(this);
    }
  }
}
