package io.modelguard.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisReadOnlyException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.modelguard.quota.QuotaArithmetic;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaKeyStateException;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.QuotaStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The raw Redis store: one Lua script call per batch of decisions on one key, with a hard
 * per-call timeout. Failures surface as {@link QuotaStoreException}; {@link RedisQuotaStore} wraps
 * it with the circuit breaker and failure policy.
 *
 * <p>Keys: {@code <prefix>{<partition>}:<name>:<t|s><window seconds>} per limit ({@link
 * #limitKey}), the layout {@link RedisQuotaStore} documents, and per script call a replay guard
 * {@code <prefix>{<partition>}:c:<instance id>:<call number>}, which the script reads first and,
 * if it is absent, sets (its first write, with a TTL of the replay window) and, before it returns,
 * overwrites with the call's reply. Read before any write, a guard answers a re-sent call even
 * while Redis is above {@code maxmemory}, which refuses a script's first write (and only that).
 *
 * <p>At most once: a call whose reply was lost with its connection is re-sent by Lettuce once it
 * has reconnected (on Cluster, where commands queue while disconnected), and the script's
 * operations are not idempotent. Each store instance has a random id and numbers its calls, so
 * each call's guard key is its own; a re-sent call that ran already gets the reply its first run
 * gave, kept in its guard, and reads or writes no quota key: its decisions get Redis's original
 * answers and its adjustments complete as the first run did (applied, or failed on a key's state).
 * Only if that reply cannot be read (the first run failed before it kept it, or another client
 * wrote the guard) is the call refused with an error starting {@value #REPLAY_REFUSED}: its
 * decisions fail (the failure policy answers, though Redis may have decided them once, as for a
 * timed-out call) and its adjustments complete normally. The guard does not depend on the order in
 * which calls arrive, so it holds with coalescing off.
 *
 * <p>A call Redis answers with {@code WRONGTYPE} (a key of the call holds a value of another type
 * than the script reads there: another client wrote it), or with the script's {@value
 * #BAD_STATE} (a key of the right type holds a value the script does not write: a number that is
 * not one, negative or too large, a missing or extra hash field), fails its operations with a
 * {@link QuotaKeyStateException} naming the key, which the breaker does not count: the key is
 * broken, not Redis. Every other error reply ({@code READONLY}, {@code OOM}, ...) fails them with
 * a plain {@link QuotaStoreException}, an outage. A {@code READONLY} reply (the connection leads to a
 * replica) is also reported, with the commands the call went through, to the {@link
 * ReadOnlyReplies} given, before the call's operations fail: the standalone store drops that
 * connection, so that a later call reconnects to whichever node the address leads to now.
 *
 * <p>A call Redis Cluster answers with {@code TRYAGAIN} (its slot is being migrated between
 * masters, and the call's keys are not all on the node that would run it: its replay guard never
 * is, being new) was refused before the script ran, so it is sent again, the same call with the
 * same guard, after a short wait ({@value #FIRST_RETRY_MILLIS} ms, doubled each time up to {@value
 * #MAX_RETRY_MILLIS} ms), for as long as the earliest deadline of its operations allows. A call
 * still refused then, or whose operations time out while it waits, fails them with a {@link
 * QuotaKeyStateException} naming its keys, as it does the key's operations that time out queued
 * behind it: the breaker does not count it, for Redis answered, and the migration is of one slot,
 * not an outage of the master.
 *
 * <p>Coalescing: decisions on one key queue in a lane; while a script call for the lane is in
 * flight, later decisions wait and go together in the next call, in arrival order. The script
 * applies them one after another, so a batch decides exactly what the same decisions one by one
 * would; each decision is charged once, whichever call carries it.
 */
final class RedisScriptStore implements QuotaStore {
  /**
   * Script calls of one key in flight at once. One keeps a key's operations in submission order
   * (a refund is applied before the same thread's next decision, even on Cluster, where a node
   * connection still opening may reorder writes); two measured no better on this machine.
   */
  static final int MAX_IN_FLIGHT = 1;
  static final String SCRIPT = loadScript();
  static final String SHA = sha1(SCRIPT);
  /** The result of an adjustment a refused re-sent call had applied: no one reads it. */
  private static final long[] APPLIED = new long[0];

  /** The most plans whose script arguments are kept (as {@code QuotaPolicy} keeps overrides). */
  static final int MAX_CACHED_PLANS = 10_000;
  /** How the script's error refusing a call it ran already begins. */
  static final String REPLAY_REFUSED = "MGREPLAY";
  /** How Redis's error begins when a key holds a value of another type than the command reads. */
  private static final String WRONG_TYPE = "WRONGTYPE";
  /**
   * How the script's error begins when a key holds a value of the right type that it does not
   * write; the key's position in the call (from 1) follows.
   */
  static final String BAD_STATE = "MGBADSTATE";
  /**
   * How Redis Cluster's error begins when it refuses a multi-key command, before running it,
   * because the keys' slot is being migrated and not all of them are on the node asked.
   */
  private static final String TRY_AGAIN = "TRYAGAIN";
  /** The wait before a call refused with {@code TRYAGAIN} is sent again the first time. */
  static final long FIRST_RETRY_MILLIS = 1;
  /** The longest wait between two sends of a call refused with {@code TRYAGAIN}. */
  static final long MAX_RETRY_MILLIS = 10;

  private final Supplier<CompletionStage<RedisScriptingAsyncCommands<String, String>>> commands;
  private final String prefix;
  private final long timeoutNanos;
  private final Clock clientClock;
  private final String graceMillis;
  /** The key name of a call's replay guard, up to its call number. */
  private final String callTagSuffix;
  private final String replayWindowMillis;
  private final boolean coalesce;
  private final int maxBatch;
  private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
  /** The script arguments of each plan seen, up to {@link #MAX_CACHED_PLANS}. */
  private final ConcurrentHashMap<QuotaPlan, String[]> planArgs = new ConcurrentHashMap<>();
  /** Counts the calls sent, and numbers them for their replay guards. */
  private final AtomicLong scriptCalls = new AtomicLong();
  private final AtomicLong operations = new AtomicLong();
  private final DroppedAdjustments dropped;
  private final ReadOnlyReplies readOnly;

  /** Told of an adjustment that failed after {@link #adjust} returned. */
  @FunctionalInterface
  interface DroppedAdjustments {
    void dropped(QuotaKey key, long delta, Throwable cause);
  }

  /** Told of a script call that Redis refused with {@code READONLY}: its connection leads to a replica. */
  @FunctionalInterface
  interface ReadOnlyReplies {
    /**
     * Called on a Lettuce event loop, before the call's operations fail: must not block.
     *
     * @param commands those the refused call was sent with, as the connection supplier gave them
     */
    void refused(RedisScriptingAsyncCommands<String, String> commands);
  }

  /** A store that ignores {@code READONLY} replies but for failing their calls (tests of the script). */
  RedisScriptStore(Supplier<CompletionStage<RedisScriptingAsyncCommands<String, String>>> commands, String prefix,
      long timeoutNanos, Clock clientClock, boolean coalesce, int maxBatch, DroppedAdjustments dropped,
      String instanceId, long replayWindowMillis) {
    this(commands, prefix, timeoutNanos, clientClock, coalesce, maxBatch, dropped, instanceId, replayWindowMillis,
        refused -> {});
  }

  /**
   * @param instanceId this store's id in replay guard keys: unique among the stores sharing the
   *     Redis, without a colon ({@link #randomInstanceId()})
   * @param replayWindowMillis how long a replay guard lives: longer than Lettuce may re-send an
   *     unanswered call (it drops a command at its own timeout and never writes one it dropped)
   * @param readOnly told of each call Redis refused with {@code READONLY}
   */
  RedisScriptStore(Supplier<CompletionStage<RedisScriptingAsyncCommands<String, String>>> commands, String prefix,
      long timeoutNanos, Clock clientClock, boolean coalesce, int maxBatch, DroppedAdjustments dropped,
      String instanceId, long replayWindowMillis, ReadOnlyReplies readOnly) {
    if (instanceId.isEmpty() || instanceId.indexOf(':') >= 0 || replayWindowMillis < 1) {
      throw new IllegalArgumentException("bad replay guard: instance id '" + instanceId + "', window "
          + replayWindowMillis + " ms");
    }
    this.commands = commands;
    this.dropped = dropped;
    this.readOnly = readOnly;
    this.prefix = prefix;
    this.timeoutNanos = timeoutNanos;
    this.clientClock = clientClock;
    // With a test clock, keys must outlive a test that holds the clock still in real time.
    this.graceMillis = clientClock == null ? "1000" : "3600000";
    this.coalesce = coalesce;
    this.maxBatch = maxBatch;
    this.callTagSuffix = "}:c:" + instanceId + ":";
    this.replayWindowMillis = Long.toString(replayWindowMillis);
  }

  /** A random id for a store instance: 128 bits, URL-safe Base64 (no colon). */
  static String randomInstanceId() {
    byte[] id = new byte[16];
    new SecureRandom().nextBytes(id);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(id);
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("cost must be at least 1, was " + cost);
    }
    long deadline = System.nanoTime() + timeoutNanos;
    Op op = new Op(plan, true, cost, 0, null, deadline);
    submit(key.partition(), op);
    long[] r = await(op, deadline);
    long[] state = new long[QuotaArithmetic.stateSize(plan)];
    System.arraycopy(r, 2, state, 0, state.length);
    return QuotaArithmetic.decision(plan, state, r[0], cost, r[1] == 1);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    adjust(key, plan, delta, decidedAtMicros, null);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] ends) {
    // The script reads one end per limit and the batch's next operation right after them.
    QuotaArithmetic.checkBucketEnds(plan, ends);
    if (delta == 0) {
      return;
    }
    Op op = new Op(plan, false, delta, decidedAtMicros, ends, System.nanoTime() + timeoutNanos);
    op.result.whenComplete((r, e) -> {
      if (e != null) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        dropped.dropped(key, delta, cause);
      }
    });
    submit(key.partition(), op);
  }

  long scriptCalls() {
    return scriptCalls.get();
  }

  long operations() {
    return operations.get();
  }

  /**
   * Waits for {@code op} until {@code deadline}. An interrupt does not end the wait, which the
   * deadline bounds anyway: it is no failure of Redis, and failing here would count towards
   * opening the breaker every key shares (a thread whose flag an earlier step restored would fail
   * every decision at once). The flag is set again before returning.
   */
  private long[] await(Op op, long deadline) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return op.result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } catch (TimeoutException e) {
      // Marks the operation done, so a batch not yet sent leaves it out.
      op.result.completeExceptionally(e);
      QuotaKeyStateException migrating = op.tryAgain != null ? op.tryAgain : op.lane != null ? op.lane.tryAgain : null;
      if (migrating != null) {
        // Redis answered TRYAGAIN to its call, or to the key's call it waited behind, and that call
        // was sent again: a slot in migration, no outage.
        throw new QuotaKeyStateException(migrating.getMessage() + "; timed out after " + timeoutNanos / 1_000_000
            + " ms", migrating);
      }
      throw new QuotaStoreException("Redis quota decision timed out after " + timeoutNanos / 1_000_000 + " ms");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof QuotaKeyStateException) {
        throw new QuotaKeyStateException(cause.getMessage(), cause); // this thread's stack, the same kind
      }
      // A QuotaStoreException's message says what happened; another's type says where it came from.
      throw new QuotaStoreException("Redis quota decision failed: "
          + (cause instanceof QuotaStoreException ? cause.getMessage() : cause), cause);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void submit(String partition, Op op) {
    operations.incrementAndGet();
    if (!coalesce) {
      send(partition, List.of(op), null);
      return;
    }
    Lane lane = lanes.computeIfAbsent(partition, Lane::new);
    op.lane = lane;
    lane.queue.add(op);
    drain(lane);
  }

  /** Sends queued operations while fewer than {@link #MAX_IN_FLIGHT} calls of the lane are in flight. */
  private void drain(Lane lane) {
    while (true) {
      int inFlight = lane.inFlight.get();
      if (inFlight >= MAX_IN_FLIGHT) {
        return;
      }
      if (lane.queue.isEmpty()) {
        if (inFlight == 0) {
          lanes.remove(lane.partition, lane);
          // An operation added meanwhile is sent by its submitter's drain, or by this loop.
          if (lane.queue.isEmpty()) {
            return;
          }
          continue;
        }
        return;
      }
      if (!lane.inFlight.compareAndSet(inFlight, inFlight + 1)) {
        continue;
      }
      List<Op> batch;
      synchronized (lane) {
        batch = take(lane);
      }
      if (batch.isEmpty()) {
        lane.inFlight.decrementAndGet();
        continue;
      }
      send(lane.partition, batch, lane);
    }
  }

  private List<Op> take(Lane lane) {
    List<Op> batch = new ArrayList<>(Math.min(maxBatch, 32));
    QuotaPlan plan = null;
    Op op;
    while (batch.size() < maxBatch && (op = lane.queue.peek()) != null) {
      if (op.result.isDone()) {
        lane.queue.poll(); // timed out before it was sent
        continue;
      }
      if (plan == null) {
        plan = op.plan;
      } else if (op.plan != plan && !op.plan.equals(plan)) {
        break; // one plan per call; the next call takes it
      }
      batch.add(lane.queue.poll());
    }
    return batch;
  }

  /** {@code plan}'s limits as script arguments, cached. */
  String[] limitArgsOf(QuotaPlan plan) {
    String[] limits = planArgs.get(plan);
    if (limits == null) {
      if (planArgs.size() >= MAX_CACHED_PLANS) {
        // Tiers give a few plans; this many means per-principal overrides (claims), which can be
        // endless: start over rather than grow without bound (the arguments are cheap to rebuild).
        planArgs.clear();
      }
      limits = planArgs.computeIfAbsent(plan, RedisScriptStore::limitArgs);
    }
    return limits;
  }

  /** How many plans' arguments are cached. */
  int cachedPlans() {
    return planArgs.size();
  }

  private void send(String partition, List<Op> batch, Lane lane) {
    long number = scriptCalls.incrementAndGet();
    QuotaPlan plan = batch.get(0).plan;
    String[] limitKeys = lane != null ? lane.keys(plan, this::keys) : keys(partition, plan);
    String[] keys = new String[limitKeys.length + 1];
    System.arraycopy(limitKeys, 0, keys, 0, limitKeys.length);
    keys[limitKeys.length] = prefix + "{" + partition + callTagSuffix + number;
    String[] limits = limitArgsOf(plan);
    int opArgs = 0;
    for (Op op : batch) {
      opArgs += 3 + (op.ends != null ? op.ends.length : 0);
    }
    String[] args = new String[4 + limits.length + 1 + opArgs];
    args[0] = clientClock == null ? "" : Long.toString(QuotaArithmetic.micros(clientClock));
    args[1] = graceMillis;
    args[2] = replayWindowMillis;
    args[3] = Integer.toString(plan.size());
    System.arraycopy(limits, 0, args, 4, limits.length);
    int p = 4 + limits.length;
    args[p++] = Integer.toString(batch.size());
    for (Op op : batch) {
      args[p++] = op.acquire ? "0" : op.ends == null ? "1" : "2";
      args[p++] = Long.toString(op.amount);
      args[p++] = Long.toString(op.decidedAt);
      if (op.ends != null) {
        for (long end : op.ends) {
          args[p++] = Long.toString(end);
        }
      }
    }
    long deadline = batch.get(0).deadline;
    for (Op op : batch) {
      deadline = op.deadline - deadline < 0 ? op.deadline : deadline;
    }
    attempt(new Call(batch, lane, plan, limitKeys, keys, args, deadline));
  }

  /** Sends {@code c} (again, after {@code TRYAGAIN}) and ends its operations, or sends it again later. */
  private void attempt(Call c) {
    List<Op> batch = c.batch;
    Lane lane = c.lane;
    CompletableFuture<List<Object>> call;
    try {
      CompletableFuture<RedisScriptingAsyncCommands<String, String>> connected = commands.get().toCompletableFuture();
      call = connected.isDone() && !connected.isCompletedExceptionally()
          ? call(connected.join(), c.keys, c.args)
          : connected.thenCompose(commands -> call(commands, c.keys, c.args));
    } catch (RuntimeException e) {
      // Thrown rather than returned as a failed future (by the connection's supplier, say): failed
      // like any other call, so that the lane's call in flight ends and its key is not stuck until
      // every later decision times out.
      call = CompletableFuture.failedFuture(e);
    }
    call.whenComplete((reply, error) -> {
      boolean again = false;
      try {
        if (lane != null && (error == null || !isTryAgain(unwrap(error)))) {
          lane.tryAgain = null; // answered otherwise: not (or no longer) a slot in migration
        }
        if (error != null) {
          Throwable cause = unwrap(error);
          if (isTryAgain(cause)) {
            again = tryAgainLater(c, cause);
          } else if (isReplayRefused(cause)) {
            refusedReplay(batch, cause);
          } else if (isKeyState(cause)) {
            QuotaKeyStateException e = keyState(c.limitKeys, cause);
            for (Op op : batch) {
              op.result.completeExceptionally(e);
            }
          } else {
            for (Op op : batch) {
              op.result.completeExceptionally(cause);
            }
          }
        } else {
          complete(batch, c.plan, reply);
        }
      } finally {
        // A call sent again stays the lane's call in flight, so the key's later operations still
        // follow it in order.
        if (!again) {
          release(lane);
        }
      }
    });
  }

  /** Ends a call of {@code lane} (null without coalescing) and sends the key's next operations. */
  private void release(Lane lane) {
    if (lane != null) {
      lane.inFlight.decrementAndGet();
      drain(lane);
    }
  }

  /**
   * After Redis Cluster refused {@code c} with {@code TRYAGAIN}: schedules it to be sent again,
   * unchanged (same replay guard), if some operation of it still waits and the wait ends before
   * the earliest deadline of its operations; else fails them as a slot in migration. Sending it
   * again is safe: Redis refuses with {@code TRYAGAIN} before it runs the script, and were it run,
   * the guard would answer with the first run's reply.
   *
   * @return whether the call was scheduled to be sent again
   */
  private boolean tryAgainLater(Call c, Throwable cause) {
    QuotaKeyStateException e = slotMigrating(c.limitKeys, cause);
    boolean waiting = false;
    for (Op op : c.batch) {
      op.tryAgain = e;
      waiting |= !op.result.isDone();
    }
    if (c.lane != null) {
      c.lane.tryAgain = e;
    }
    long wait = TimeUnit.MILLISECONDS.toNanos(c.nextWaitMillis());
    if (waiting && c.deadline - (System.nanoTime() + wait) > 0) {
      CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, Runnable::run).execute(() -> sendAgain(c, e));
      return true;
    }
    for (Op op : c.batch) {
      op.result.completeExceptionally(e);
    }
    return false;
  }

  /**
   * Sends {@code c} again once its wait after {@code TRYAGAIN} is over, unless the wait outlasted
   * its operations (the JVM's delay thread ran late, a busy JVM): an operation whose caller was
   * answered already must not be charged by a later run. Those still waiting fail with {@code e},
   * and the key's next operations go.
   */
  private void sendAgain(Call c, QuotaKeyStateException e) {
    boolean waiting = false;
    for (Op op : c.batch) {
      waiting |= !op.result.isDone();
    }
    if (waiting && c.deadline - System.nanoTime() > 0) {
      attempt(c);
      return;
    }
    try {
      for (Op op : c.batch) {
        op.result.completeExceptionally(e);
      }
    } finally {
      release(c.lane);
    }
  }

  private static boolean isTryAgain(Throwable cause) {
    return isErrorReply(cause, TRY_AGAIN);
  }

  /**
   * The failure of a call Redis Cluster kept refusing with {@code TRYAGAIN} until its operations'
   * deadline: the slot of its keys is being migrated to another master, and the script never ran.
   * No outage of Redis, which answered; no fault of the keys either: the call succeeds again once
   * the migration of the slot ends.
   */
  private static QuotaKeyStateException slotMigrating(String[] limitKeys, Throwable cause) {
    return new QuotaKeyStateException(keysNamed(limitKeys, "The Redis keys ") + ": Redis Cluster is migrating their slot to another master and refused"
        + " the quota script until the call's timeout (" + cause.getMessage() + ")", cause);
  }

  private String[] keys(String partition, QuotaPlan plan) {
    String[] keys = new String[plan.size()];
    String tag = prefix + "{" + partition + "}:";
    for (int i = 0; i < keys.length; i++) {
      keys[i] = tag + limitKey(plan.limit(i));
    }
    return keys;
  }

  /**
   * The part of a limit's key after the hash tag: {@code <name>:t<window seconds>} for a token
   * bucket, {@code <name>:s<window seconds>} for a sliding window. The state a key holds means
   * something only for that algorithm and window (a string for one, a hash for the other), so a
   * limit redefined under the same name counts under another key and never meets the old state;
   * the quota is left out, so a changed quota keeps the count. Unambiguous: names never contain a
   * colon ({@link QuotaLimit}), so the last one ends the name.
   */
  static String limitKey(QuotaLimit limit) {
    char algorithm = limit.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET ? 't' : 's';
    return limit.name() + ':' + algorithm + limit.windowSeconds();
  }

  /** Runs the script with {@code c}, telling {@link #readOnly} first if Redis refuses it with {@code READONLY}. */
  private CompletableFuture<List<Object>> call(RedisScriptingAsyncCommands<String, String> c, String[] keys,
      String[] args) {
    return evaluate(c, keys, args).whenComplete((reply, error) -> {
      if (error != null && unwrap(error) instanceof RedisReadOnlyException) {
        readOnly.refused(c);
      }
    });
  }

  private static CompletableFuture<List<Object>> evaluate(RedisScriptingAsyncCommands<String, String> c,
      String[] keys, String[] args) {
    return c.<List<Object>>evalsha(SHA, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
        .exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
            ? c.<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
            : CompletableFuture.failedFuture(e));
  }

  private static boolean isKeyState(Throwable cause) {
    return isErrorReply(cause, WRONG_TYPE) || isErrorReply(cause, BAD_STATE + " ");
  }

  /**
   * The failure of a call one of whose keys holds a value of another type ({@code WRONGTYPE}), or
   * of the right type but not one the script writes ({@value #BAD_STATE}, which names the key): the
   * script reads every key before it writes, so it changed none of them (only its replay guard is
   * set), and it cannot decide for them until the key is deleted. Read as a full quota, such a
   * value would give the tenant its quota again for as long as it stays.
   */
  private static QuotaKeyStateException keyState(String[] limitKeys, Throwable cause) {
    String message = cause.getMessage();
    if (message.startsWith(BAD_STATE)) {
      int position = keyPosition(message, limitKeys.length);
      String key = position > 0 ? "Redis key " + limitKeys[position - 1]
          : "One of the Redis keys " + String.join(", ", limitKeys);
      return new QuotaKeyStateException(key + " holds a value the quota store does not write (another client"
          + " changed it?): no decision on it until it is deleted (" + message + ")", cause);
    }
    return new QuotaKeyStateException(keysNamed(limitKeys, "One of the Redis keys ") + " holds a value of another type than the quota store keeps there"
        + " (another client wrote it?): no decision on it until it is deleted (" + message + ")", cause);
  }

  /** The key position (1 to {@code keys}) after {@value #BAD_STATE} in {@code message}; 0 if there is none. */
  private static int keyPosition(String message, int keys) {
    String[] words = message.split(" ", 3);
    if (words.length < 2 || !words[1].matches("[1-9][0-9]{0,3}")) {
      return 0;
    }
    int position = Integer.parseInt(words[1]);
    return position <= keys ? position : 0;
  }

  private static boolean isReplayRefused(Throwable cause) {
    return isErrorReply(cause, REPLAY_REFUSED);
  }

  /** Whether {@code cause} is an error reply of Redis (or of the script) starting with {@code code}. */
  private static boolean isErrorReply(Throwable cause, String code) {
    return cause instanceof RedisCommandExecutionException && cause.getMessage() != null
        && cause.getMessage().startsWith(code);
  }

  /**
   * {@code limitKeys} named for a message: {@code Redis key <key>} for one, else {@code several}
   * followed by them all.
   */
  private static String keysNamed(String[] limitKeys, String several) {
    return limitKeys.length == 1 ? "Redis key " + limitKeys[0] : several + String.join(", ", limitKeys);
  }

  /**
   * Ends the operations of a call Redis refused as a re-sent one whose first reply it could not
   * give again (the script kept none, or another client overwrote it): it ran them when it first
   * got the call, whose reply was lost. An adjustment is taken as applied, so it completes
   * normally (it is no dropped settlement); a decision's outcome was lost with the reply, so it
   * fails and the failure policy answers, though Redis may have decided it once (and charged it, if
   * it allowed it).
   */
  private static void refusedReplay(List<Op> batch, Throwable cause) {
    QuotaStoreException e = new QuotaStoreException("Redis refused a re-sent quota call: it had run it"
        + " already, its reply was lost with the connection, and its replay guard kept no reply to give again",
        cause);
    for (Op op : batch) {
      if (op.acquire) {
        op.result.completeExceptionally(e);
      } else {
        op.result.complete(APPLIED);
      }
    }
  }

  private static void complete(List<Op> batch, QuotaPlan plan, List<Object> reply) {
    int width = 1 + QuotaArithmetic.stateSize(plan);
    if (reply == null || reply.size() != 1 + width * batch.size()) {
      QuotaStoreException e = new QuotaStoreException("unexpected reply from the quota script");
      batch.forEach(op -> op.result.completeExceptionally(e));
      return;
    }
    long now = (Long) reply.get(0);
    for (int j = 0; j < batch.size(); j++) {
      long[] r = new long[1 + width];
      r[0] = now;
      for (int k = 0; k < width; k++) {
        r[1 + k] = (Long) reply.get(1 + j * width + k);
      }
      batch.get(j).result.complete(r);
    }
  }

  private static String[] limitArgs(QuotaPlan plan) {
    String[] args = new String[3 * plan.size()];
    for (int i = 0; i < plan.size(); i++) {
      QuotaLimit l = plan.limit(i);
      boolean bucket = l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET;
      args[3 * i] = bucket ? "1" : "2";
      args[3 * i + 1] = Long.toString(bucket ? l.intervalMicros() : l.quota());
      args[3 * i + 2] = Long.toString(bucket ? l.toleranceMicros() : l.windowMillis());
    }
    return args;
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static String loadScript() {
    try (InputStream in = RedisScriptStore.class.getResourceAsStream("quota.lua")) {
      if (in == null) {
        throw new IllegalStateException("quota.lua is missing from the modelguard-redis jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One decision or adjustment waiting for its script call. */
  private static final class Op {
    final QuotaPlan plan;
    final boolean acquire;
    final long amount;
    final long decidedAt;
    /** For a settlement: the reservation's {@link QuotaArithmetic#bucketEnds}; otherwise null. */
    final long[] ends;
    /** The {@link System#nanoTime()} until which a script call refused with {@code TRYAGAIN} is sent again. */
    final long deadline;
    final CompletableFuture<long[]> result = new CompletableFuture<>();
    /** Set once a call carrying it was refused with {@code TRYAGAIN}: what it fails with if it times out. */
    volatile QuotaKeyStateException tryAgain;
    /** The lane it is queued in, set before it is queued; null without coalescing. */
    Lane lane;

    Op(QuotaPlan plan, boolean acquire, long amount, long decidedAt, long[] ends, long deadline) {
      this.plan = plan;
      this.acquire = acquire;
      this.amount = amount;
      this.decidedAt = decidedAt;
      this.ends = ends;
      this.deadline = deadline;
    }
  }

  /** One script call: its operations, keys and arguments, kept to send it again after {@code TRYAGAIN}. */
  private static final class Call {
    final List<Op> batch;
    /** Its lane, or null without coalescing. */
    final Lane lane;
    final QuotaPlan plan;
    final String[] limitKeys;
    final String[] keys;
    final String[] args;
    /** The earliest deadline of its operations. */
    final long deadline;
    /** The wait before the next send; touched by one thread at a time (the reply's, then the timer's). */
    private long waitMillis = FIRST_RETRY_MILLIS;

    Call(List<Op> batch, Lane lane, QuotaPlan plan, String[] limitKeys, String[] keys, String[] args, long deadline) {
      this.batch = batch;
      this.lane = lane;
      this.plan = plan;
      this.limitKeys = limitKeys;
      this.keys = keys;
      this.args = args;
      this.deadline = deadline;
    }

    /** The wait before the next send: {@link #FIRST_RETRY_MILLIS}, doubled each time up to {@link #MAX_RETRY_MILLIS}. */
    long nextWaitMillis() {
      long wait = waitMillis;
      waitMillis = Math.min(2 * wait, MAX_RETRY_MILLIS);
      return wait;
    }
  }

  /** The queue of one key and its script calls in flight. */
  private static final class Lane {
    final String partition;
    final ConcurrentLinkedQueue<Op> queue = new ConcurrentLinkedQueue<>();
    final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Set when its call in flight is refused with {@code TRYAGAIN}, cleared by its next call's other
     * answer: what an operation queued behind that call fails with if it times out before it is sent
     * or refused itself (a busy key's decisions during a slot migration).
     */
    volatile QuotaKeyStateException tryAgain;

    /** The key names of the last plan sent, reused while the lane lives; touched by one sender at a time. */
    private QuotaPlan keysPlan;
    private String[] keys;

    Lane(String partition) {
      this.partition = partition;
    }

    synchronized String[] keys(QuotaPlan plan, java.util.function.BiFunction<String, QuotaPlan, String[]> names) {
      if (plan != keysPlan) {
        keys = names.apply(partition, plan);
        keysPlan = plan;
      }
      return keys;
    }
  }
}
