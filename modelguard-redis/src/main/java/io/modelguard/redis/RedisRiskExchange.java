package io.modelguard.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.modelguard.extraction.RiskExchange;
import io.modelguard.extraction.RiskRaise;
import io.modelguard.internal.LogPace;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A {@link RiskExchange} between JVMs over Redis pub/sub: each instance's {@link
 * io.modelguard.extraction.ExtractionDefence}s publish the levels they raise on one channel and
 * receive every other instance's, so a client blocked on one instance is blocked on all.
 *
 * <pre>{@code
 * RedisRiskExchange exchange = RedisRiskExchange.builder(RedisURI.create("redis://127.0.0.1:6379")).build();
 * ExtractionDefence digits = ExtractionDefence.builder(keys.derive("digits"), 10)
 *     .exchange(exchange, "digits") // one label per model; one exchange for all of them
 *     .build();
 * // on shutdown, after the server stopped:
 * exchange.close();
 * }</pre>
 *
 * <h2>Messages</h2>
 *
 * One raise a message, published on {@link Builder#channel} (default {@value #DEFAULT_CHANNEL}) as
 * a JSON object of at most {@value #MAX_PAYLOAD_BYTES} bytes in UTF-8: {@code
 * {"v":1,"from":"<instance>","label":"digits","client":"p:acme:alice","score":61.5,"at":1767225600000,"scope":"principal"}}
 * ({@code at} in epoch milliseconds; {@code from} a random id drawn when the exchange is built, so
 * an instance ignores its own messages; {@code scope}, optional, the publishing defence's {@link
 * io.modelguard.extraction.ClientScope} in lower case, {@code principal} or {@code tenant}: a
 * defence of another scope drops the raise but an address's, and one without it is taken by any, see {@link
 * RiskRaise}). A message that is not such an object (not JSON, another version, a member missing
 * or given twice, a {@code scope} of another name, a raise out of {@link RiskRaise}'s bounds, or longer
 * than {@value #MAX_PAYLOAD_BYTES} bytes, which is not parsed) is ignored, and logged at most once
 * a minute. Members of an unknown name are skipped, so a later version may add some (as {@code
 * scope} was added to version 1: instances that do not know it skip it). Each message
 * is handled on Lettuce's event loop before the next is read; a flood only fills Redis's output
 * buffer for this subscriber, which Redis bounds ({@code client-output-buffer-limit pubsub}, by
 * default disconnecting a subscriber 32 MB behind; it then reconnects). That limit also bounds one
 * long message: Lettuce reads a message whole into its buffer before the exchange can measure it,
 * so a message just under 32 MB is held once in memory, then dropped, and a longer one gets the
 * subscriber disconnected (raises published until it has subscribed again are lost for it).
 *
 * <h2>Delivery is best effort</h2>
 *
 * Redis pub/sub keeps nothing: a raise published while an instance is disconnected from Redis
 * never reaches it, and one published while the publisher is disconnected is dropped (commands
 * are rejected at once while disconnected, and at most {@value #MAX_QUEUED} wait for Redis's reply:
 * publishing never blocks or queues without bound). Drops are logged at most once a minute. Lettuce
 * reconnects by itself (every 10–500 ms) and subscribes again; a first connection that fails is
 * retried too, every few seconds. Each instance still judges by its own detectors meanwhile, so a
 * lost raise only leaves a level on the instance that raised it, as without an exchange. Raises
 * between the defences of one JVM on one exchange are handed over in process, Redis or not.
 *
 * <h2>Trust</h2>
 *
 * Anyone who can {@code PUBLISH} on the channel can raise any client's level (up to a block) on
 * every instance: the trust the quota store's keys need already. Use a Redis only the
 * application's instances reach, with ACLs and TLS ({@code rediss://}) as for {@link
 * RedisQuotaStore}; the credentials and TLS settings of the {@link RedisURI} are used as given.
 *
 * <p>A standalone Redis, or the master Redis Sentinels name ({@code redis-sentinel://}: Lettuce asks
 * them on every connection). Redis Cluster is not supported yet. Thread-safe. {@link #close()}
 * releases the connections and the client this exchange created.
 */
public final class RedisRiskExchange implements RiskExchange, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisRiskExchange.class);
  /** The default channel. */
  public static final String DEFAULT_CHANNEL = "mg:extraction-risk";
  /** The longest message published or read, in bytes: any raise within {@link RiskRaise}'s bounds fits. */
  public static final int MAX_PAYLOAD_BYTES = 32 * 1024;
  /** The most publishes waiting for Redis's reply at once. */
  public static final int MAX_QUEUED = 10_000;
  /** How long a publish waits for Redis's reply before Lettuce drops it. */
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
  /** The longest wait between two attempts at a first connection. */
  private static final long MAX_RETRY_MILLIS = 5_000;

  private final RedisURI uri;
  private final String channel;
  /** This exchange's id in its messages: 128 random bits, URL-safe Base64. */
  private final String instance;
  private final RedisResources resources;
  private final RedisClient client;
  private final CopyOnWriteArrayList<LocalMember> members = new CopyOnWriteArrayList<>();
  private final AtomicReference<StatefulRedisConnection<String, byte[]>> publisher = new AtomicReference<>();
  private final AtomicReference<StatefulRedisPubSubConnection<String, byte[]>> subscriber = new AtomicReference<>();
  private final CompletableFuture<Void> publisherReady = new CompletableFuture<>();
  private final CompletableFuture<Void> subscribed = new CompletableFuture<>();
  private final LogPace<String> pace = new LogPace<>(log, "per cause");
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong ignored = new AtomicLong();
  private volatile boolean closed;

  private RedisRiskExchange(Builder b) {
    this.uri = b.uri;
    this.channel = b.channel;
    byte[] id = new byte[16];
    new SecureRandom().nextBytes(id);
    this.instance = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    this.resources = RedisResources.of(b.resources);
    this.client = RedisClient.create(resources.resources());
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        // Rejected at once while disconnected, and few waiting for a reply: a publish never queues
        // without bound or waits for a Redis that is away.
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .requestQueueSize(MAX_QUEUED)
        .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).build())
        .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
        .build());
  }

  /**
   * Starts a builder for a standalone Redis at {@code uri} ({@code redis://} or {@code rediss://},
   * with credentials if it needs them), or the master Redis Sentinels name ({@code
   * redis-sentinel://...#mymaster}).
   *
   * @param uri the Redis to publish and subscribe on; not null
   * @return a new builder with the defaults
   */
  public static Builder builder(RedisURI uri) {
    return new Builder(Objects.requireNonNull(uri, "uri"));
  }

  @Override
  public Member join(Consumer<RiskRaise> receiver) {
    LocalMember member = new LocalMember(Objects.requireNonNull(receiver, "receiver"));
    members.add(member);
    return member;
  }

  /**
   * Waits at most {@code timeout} until this exchange has connected its publishing connection and
   * subscribed for the first time. Optional: without it, the exchange connects in the background
   * and raises published before then are dropped (logged). Once true it stays true: it says nothing
   * of a later disconnection (Lettuce reconnects by itself) or of {@link #close()}.
   *
   * @param timeout the longest to wait for both; not null
   * @return whether both were ready in time
   */
  public boolean awaitReady(Duration timeout) {
    try {
      CompletableFuture.allOf(publisherReady, subscribed).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    }
  }

  /**
   * How many raises this exchange has published that Redis took, since it was built: a counter
   * that only grows (for meters). Counted when Redis replies, so it lags a publish by a round trip.
   *
   * @return the count since the exchange was built
   */
  public long publishedRaises() {
    return published.get();
  }

  /**
   * How many raises this exchange could not publish, since it was built (not connected yet or
   * disconnected, Redis did not reply in time or refused, more than {@value #MAX_QUEUED} waiting):
   * they hold on their instance only. A counter that only grows (for meters); each is
   * also logged, at most once a minute per cause. One that keeps growing means other instances do
   * not learn this one's raises.
   *
   * @return the count since the exchange was built
   */
  public long droppedRaises() {
    return dropped.get();
  }

  /**
   * How many raises of other instances this exchange has received and handed to its members, since
   * it was built (whatever each member made of it: another label's, or one that raised nothing, is
   * counted too). Its own are not counted. A counter that only grows (for meters).
   *
   * @return the count since the exchange was built
   */
  public long receivedRaises() {
    return received.get();
  }

  /**
   * How many messages on the channel this exchange has ignored, since it was built: not a raise of
   * this version within bounds (see the class comment). A counter that only grows (for meters); one
   * that grows means something else publishes on the channel.
   *
   * @return the count since the exchange was built
   */
  public long ignoredMessages() {
    return ignored.get();
  }

  /** This exchange's id in its messages (for tests). */
  String instance() {
    return instance;
  }

  /**
   * Closes the connections and shuts the Redis client down, and its {@link ClientResources} unless
   * the caller gave them ({@link Builder#clientResources}); members receive nothing more.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    members.clear();
    closeQuietly(publisher.getAndSet(null));
    closeQuietly(subscriber.getAndSet(null));
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.release();
  }

  private static void closeQuietly(io.lettuce.core.api.StatefulConnection<?, ?> connection) {
    if (connection != null) {
      connection.closeAsync();
    }
  }

  /** Connects the publishing connection, trying again after {@code delayMillis} (doubling) if it fails. */
  private void connectPublisher(long delayMillis) {
    if (closed) {
      return;
    }
    client.connectAsync(RiskRaiseCodec.REDIS, uri).whenComplete((connection, e) -> {
      if (e != null) {
        pace.log(Level.WARN, "connect", System.currentTimeMillis(), null, "Extraction risk exchange: cannot connect "
            + "to Redis ({}): {}; retrying. Raises are not shared meanwhile", RedisQuotaStore.describe(uri),
            e.getClass().getSimpleName());
        retry(() -> connectPublisher(Math.min(MAX_RETRY_MILLIS, delayMillis * 2)), delayMillis);
        return;
      }
      publisher.set(connection);
      if (closed) {
        closeQuietly(publisher.getAndSet(null));
        return;
      }
      publisherReady.complete(null);
    });
  }

  /** Connects and subscribes, trying again after {@code delayMillis} (doubling) if either fails. */
  private void subscribe(long delayMillis) {
    if (closed) {
      return;
    }
    client.connectPubSubAsync(RiskRaiseCodec.REDIS, uri).thenCompose(connection -> {
      subscriber.set(connection);
      if (closed) {
        closeQuietly(subscriber.getAndSet(null));
        return CompletableFuture.completedFuture(null);
      }
      connection.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String from, byte[] payload) {
          onMessage(payload);
        }
      });
      // Lettuce subscribes again by itself on every reconnection of this connection.
      return connection.async().subscribe(channel).thenApply(v -> (Void) null);
    }).whenComplete((v, e) -> {
      if (e == null) {
        subscribed.complete(null);
        return;
      }
      pace.log(Level.WARN, "subscribe", System.currentTimeMillis(), null, "Extraction risk exchange: cannot "
          + "subscribe to channel '{}' on Redis ({}): {}; retrying. Other instances' raises are not received "
          + "meanwhile", channel, RedisQuotaStore.describe(uri), e.getClass().getSimpleName());
      closeQuietly(subscriber.getAndSet(null));
      retry(() -> subscribe(Math.min(MAX_RETRY_MILLIS, delayMillis * 2)), delayMillis);
    });
  }

  private void retry(Runnable attempt, long delayMillis) {
    if (closed) {
      return;
    }
    try {
      resources.resources().eventExecutorGroup().schedule(attempt, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      // Shutting down: nothing to retry for.
    }
  }

  /** What a message on the channel does: another instance's raise reaches every member here. */
  private void onMessage(byte[] payload) {
    if (closed) {
      return;
    }
    Optional<RiskRaiseCodec.Message> message = RiskRaiseCodec.decode(payload);
    if (message.isEmpty()) {
      ignored.incrementAndGet();
      pace.log(Level.WARN, "malformed", System.currentTimeMillis(), null, "Extraction risk exchange: ignored a "
          + "message on channel '{}' that is not a version-{} raise of at most {} bytes (is something else "
          + "publishing on it?)", channel, RiskRaiseCodec.VERSION, MAX_PAYLOAD_BYTES);
      return;
    }
    if (message.get().from().equals(instance)) {
      return; // handed to this JVM's other members when published
    }
    received.incrementAndGet();
    deliver(null, message.get().raise());
  }

  /** Hands {@code raise} to every member but {@code from}, one raise at a time per member. */
  private void deliver(LocalMember from, RiskRaise raise) {
    for (LocalMember member : members) {
      if (member != from) {
        member.receive(raise);
      }
    }
  }

  private void publish(LocalMember from, RiskRaise raise) {
    deliver(from, raise);
    StatefulRedisConnection<String, byte[]> connection = publisher.get();
    if (connection == null) {
      dropped(null, "not connected to Redis yet");
      return;
    }
    byte[] payload = RiskRaiseCodec.encode(instance, raise);
    if (payload.length > MAX_PAYLOAD_BYTES) {
      dropped(null, "a raise of " + payload.length + " bytes is longer than a message may be");
      return;
    }
    try {
      connection.async().publish(channel, payload).whenComplete((n, e) -> {
        if (e != null) {
          dropped(e, "Redis did not take it");
        } else {
          published.incrementAndGet();
        }
      });
    } catch (RuntimeException e) {
      dropped(e, "Redis did not take it");
    }
  }

  private void dropped(Throwable e, String why) {
    dropped.incrementAndGet();
    pace.log(Level.WARN, "dropped: " + (e == null ? why : e.getClass().getName()), System.currentTimeMillis(), null,
        "Extraction risk exchange: a raised level was not sent to the other instances ({}{}); it holds on this "
        + "instance only", why, e == null ? "" : ": " + e.getClass().getSimpleName());
  }

  /** One defence's membership. */
  private final class LocalMember implements Member {
    private final Consumer<RiskRaise> receiver;
    /** Set under this member's lock: no raise reaches its receiver once it has left. */
    private boolean left;

    LocalMember(Consumer<RiskRaise> receiver) {
      this.receiver = receiver;
    }

    @Override
    public void publish(RiskRaise raise) {
      Objects.requireNonNull(raise, "raise");
      try {
        RedisRiskExchange.this.publish(this, raise);
      } catch (RuntimeException e) {
        dropped(e, "unexpected failure");
      }
    }

    synchronized void receive(RiskRaise raise) {
      if (left) {
        return;
      }
      try {
        receiver.accept(raise);
      } catch (RuntimeException e) {
        pace.log(Level.WARN, "receiver: " + e.getClass().getName(), System.currentTimeMillis(), null,
            "Extraction risk exchange: a member failed on a received raise ({}); ignored", e.getClass().getSimpleName());
      }
    }

    @Override
    public void leave() {
      synchronized (this) {
        left = true;
      }
      members.remove(this);
    }
  }

  /** Builds a {@link RedisRiskExchange}; every setter validates at once. */
  public static final class Builder {
    private final RedisURI uri;
    private String channel = DEFAULT_CHANNEL;
    private ClientResources resources;

    private Builder(RedisURI uri) {
      this.uri = uri;
    }

    /**
     * The pub/sub channel; default {@value RedisRiskExchange#DEFAULT_CHANNEL}. Every instance whose
     * defences should share levels uses the same; another channel keeps a group of instances apart.
     *
     * @param channel the channel name, 1 to 256 characters, not blank
     * @return this builder
     * @throws IllegalArgumentException if blank or longer than 256 characters
     */
    public Builder channel(String channel) {
      if (channel == null || channel.isBlank() || channel.length() > 256) {
        throw new IllegalArgumentException("RedisRiskExchange.channel must be 1 to 256 characters, not blank, was "
            + (channel == null ? "null" : "'" + channel + "'"));
      }
      this.channel = channel;
      return this;
    }

    /**
     * The Lettuce {@link ClientResources} (event loops, timers) the exchange's client runs on,
     * owned by the caller: the exchange does not shut them down when it closes, so that one set
     * serves several clients (this exchange and a {@link RedisQuotaStore} on the same Redis, say),
     * and the caller shuts them down after closing all of them. Their reconnect delay applies
     * (Lettuce's default backs off to 30 s, during which raises are not shared; the exchange by
     * itself uses {@code Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(500), 2,
     * TimeUnit.MILLISECONDS)}). Default:
     * resources of its own, reconnecting every 10–500 ms, shut down by {@link
     * RedisRiskExchange#close}.
     *
     * @param resources the caller's resources, which it must shut down itself; not null
     * @return this builder
     */
    public Builder clientResources(ClientResources resources) {
      this.resources = Objects.requireNonNull(resources, "clientResources");
      return this;
    }

    /**
     * Builds the exchange and starts connecting and subscribing in the background; it builds even
     * while Redis is down (see {@link RedisRiskExchange#awaitReady}).
     *
     * @return the new exchange, connecting in the background
     */
    public RedisRiskExchange build() {
      RedisRiskExchange exchange = new RedisRiskExchange(this);
      // Jittered, so that instances started together do not retry in step.
      long first = 100 + ThreadLocalRandom.current().nextLong(100);
      try {
        exchange.connectPublisher(first);
        exchange.subscribe(first);
      } catch (RuntimeException e) {
        // Lettuce refused the URI at once (a Unix socket without a native transport, say): nobody
        // will close an exchange never returned, so its client and own resources stop here.
        exchange.close();
        throw e;
      }
      return exchange;
    }
  }
}
