package io.modelguard.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens to every Sentinel of a {@code redis-sentinel://} URI for its announcement that the
 * store's master moved ({@code +switch-master}), so that the store leaves the old master when the
 * Sentinels promote another node rather than when they demote the old one, which after a failover
 * it still reaches may come 8 to 10 s later.
 *
 * <p>Every Sentinel announces a failover once it has learnt of it (the one that ran it first, the
 * others within a couple of seconds), so one failover brings as many announcements of one new
 * master: only the first one that names a new master other than the last one followed is passed
 * on; after a subscription is made or made again (a Sentinel that was unreachable, or Lettuce
 * reconnecting one), the next announcement is passed on even if it names that master, as one
 * announcing a switch away from it may have been missed meanwhile (the cost: one more
 * reconnection). A message that does not read as {@code <master name> <ip> <port> <ip> <port>} is
 * ignored with a WARN that does not repeat it. From then on the store connects through a URI that
 * asks first the Sentinel that announced it (which names the new master by then), then the others
 * in the configured order: a Sentinel that has not learnt of the failover yet would name the old
 * master again.
 *
 * <p>A Sentinel that cannot be reached when the store connects is subscribed to on a later
 * connection; once subscribed, Lettuce reconnects and subscribes again by itself. An announcement
 * made while no subscription was up is missed: then the store leaves the old master when Sentinel
 * demotes it, as without this watch.
 */
final class SentinelWatch {
  /** The channel on which a Sentinel announces {@code <master name> <old ip> <old port> <new ip> <new port>}. */
  static final String SWITCH_MASTER = "+switch-master";

  private static final Logger log = LoggerFactory.getLogger(SentinelWatch.class);

  private final RedisClient client;
  private final RedisURI configured;
  private final String masterId;
  private final List<RedisURI> sentinels;
  /** Told of each new master followed: the old master's and the new one's {@code <ip>:<port>}. */
  private final BiConsumer<String, String> switched;
  /** Per Sentinel, its subscription (done once subscribed), or null before the first attempt. */
  private final AtomicReferenceArray<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> subscriptions;
  /** The new master of the last announcement followed, {@code <ip> <port>}; null before the first. */
  private final AtomicReference<String> followed = new AtomicReference<>();
  /** The URI the store connects with: the configured one until an announcement is followed. */
  private volatile RedisURI connectUri;
  private volatile boolean closed;

  /**
   * @param uri a {@code redis-sentinel://} URI: Sentinels and a master id
   * @param switched told, on a Lettuce event loop (it must not block), of each announcement of a
   *     new master followed (the old master's address, the new one's), once {@link #connectUri()}
   *     asks first the Sentinel that announced it
   */
  SentinelWatch(RedisClient client, RedisURI uri, BiConsumer<String, String> switched) {
    this.client = client;
    this.configured = uri;
    this.masterId = uri.getSentinelMasterId();
    this.sentinels = List.copyOf(uri.getSentinels());
    this.switched = switched;
    this.subscriptions = new AtomicReferenceArray<>(sentinels.size());
    this.connectUri = uri;
  }

  /** Whether {@code uri} names Sentinels and a master for this watch to follow. */
  static boolean applies(RedisURI uri) {
    return !uri.getSentinels().isEmpty() && uri.getSentinelMasterId() != null && !uri.getSentinelMasterId().isEmpty();
  }

  /** The URI to connect with now: it asks first the Sentinel that announced the last new master. */
  RedisURI connectUri() {
    return connectUri;
  }

  /**
   * Subscribes to every Sentinel not subscribed to yet (none of whose attempts is under way or
   * done). Does not wait.
   *
   * @return done once every Sentinel's attempt has ended, subscribed or not; never fails
   */
  CompletableFuture<Void> subscribe() {
    List<CompletableFuture<?>> attempts = new ArrayList<>();
    for (int i = 0; i < sentinels.size(); i++) {
      while (!closed) {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> current = subscriptions.get(i);
        if (current != null && !current.isCompletedExceptionally()) {
          attempts.add(current);
          break;
        }
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> next = new CompletableFuture<>();
        if (subscriptions.compareAndSet(i, current, next)) {
          subscribe(sentinels.get(i), next);
          attempts.add(next);
          break;
        }
      }
    }
    return CompletableFuture.allOf(attempts.stream()
        .map(a -> a.handle((c, e) -> null))
        .toArray(CompletableFuture[]::new));
  }

  private void subscribe(RedisURI sentinel, CompletableFuture<StatefulRedisPubSubConnection<String, String>> done) {
    CompletableFuture<StatefulRedisPubSubConnection<String, String>> connected;
    try {
      connected = client.connectPubSubAsync(StringCodec.UTF8, sentinel).toCompletableFuture();
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
      return;
    }
    connected.thenCompose(c -> {
      c.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          if (SWITCH_MASTER.equals(channel)) {
            announced(sentinel, message);
          }
        }

        @Override
        public void subscribed(String channel, long count) {
          if (SWITCH_MASTER.equals(channel)) {
            // Also after each reconnection: an announcement may have been missed meanwhile (the
            // store may be back on the master last followed), so the next one is not a repetition.
            followed.set(null);
          }
        }
      });
      return c.async().subscribe(SWITCH_MASTER).toCompletableFuture()
          .whenComplete((v, e) -> {
            if (e != null) {
              c.closeAsync();
            }
          })
          .thenApply(v -> c);
    }).whenComplete((c, e) -> {
      if (e != null) {
        done.completeExceptionally(e);
      } else {
        if (closed) {
          c.closeAsync(); // made after close(); the client's shutdown would close it too
        }
        done.complete(c);
      }
    });
  }

  /** A Sentinel's {@code +switch-master}: {@code <master name> <old ip> <old port> <new ip> <new port>}. */
  private void announced(RedisURI sentinel, String message) {
    String[] words = message.split(" ");
    if (closed || words.length != 5 || !words[0].equals(masterId)) {
      return;
    }
    if (!isAddress(words[1], words[2]) || !isAddress(words[3], words[4])) {
      // Logged without the message: its addresses reach the INFO line otherwise.
      log.warn("ModelGuard quota store: ignored a malformed {} message from Redis Sentinel {}:{}", SWITCH_MASTER,
          sentinel.getHost(), sentinel.getPort());
      return;
    }
    String master = words[3] + " " + words[4];
    String last = followed.get();
    if (master.equals(last) || !followed.compareAndSet(last, master)) {
      return; // another Sentinel's announcement of the same failover, or one being followed now
    }
    connectUri = askingFirst(sentinel);
    switched.accept(words[1] + ":" + words[2], words[3] + ":" + words[4]);
  }

  /**
   * Whether {@code host} and {@code port} read as an address: a port from 1 to 65535 and an IP
   * address or host name of at most 255 letters, digits and {@code . : - _ %}, nothing else (no
   * line break to forge a log line with).
   */
  private static boolean isAddress(String host, String port) {
    if (host.isEmpty() || host.length() > 255 || port.isEmpty() || port.length() > 5) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == ':' || c == '-' || c == '_' || c == '%';
      if (!allowed) {
        return false;
      }
    }
    for (int i = 0; i < port.length(); i++) {
      if (port.charAt(i) < '0' || port.charAt(i) > '9') {
        return false;
      }
    }
    int p = Integer.parseInt(port);
    return p >= 1 && p <= 65535;
  }

  /** The configured URI with {@code sentinel} first among its Sentinels. */
  private RedisURI askingFirst(RedisURI sentinel) {
    // RedisURI.builder(RedisURI) copies the settings of the connection (credentials, TLS, timeout,
    // database, client name) but neither the Sentinels nor the master's name.
    RedisURI.Builder b = RedisURI.builder(configured).withSentinelMasterId(masterId).withSentinel(sentinel);
    for (RedisURI other : sentinels) {
      if (other != sentinel) {
        b.withSentinel(other);
      }
    }
    return b.build();
  }

  /** Closes the subscriptions; idempotent. Those still being made are closed once made. */
  void close() {
    closed = true;
    for (int i = 0; i < sentinels.size(); i++) {
      CompletableFuture<StatefulRedisPubSubConnection<String, String>> s = subscriptions.get(i);
      if (s != null && s.isDone() && !s.isCompletedExceptionally()) {
        s.join().closeAsync();
      }
    }
  }
}
