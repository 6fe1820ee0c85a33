package io.modelguard.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens to every Sentinel of a {@code redis-sentinel://} URI for its announcement that the
 * store's master moved ({@code +switch-master}), so that the store leaves the old master when the
 * Sentinels promote another node rather than when they demote the old one, which after a failover
 * it still reaches may come 8 to 10 s later.
 *
 * <p>An announcement carries no epoch, so it is not followed as it reads: one Sentinel may deliver
 * it late (after another has announced a newer failover), or announce from a view of its own that
 * the others do not share (a Sentinel cut off from them). It only makes the watch ask every
 * configured Sentinel, at once, which node it names as the master now ({@code SENTINEL
 * get-master-addr-by-name}); the store follows the address that more than half of the configured
 * Sentinels name, not the one announced, and only if it is not the one the announcement says the
 * master moved away from (then the announcement is one a majority has not learnt of yet, or one of
 * a failover undone since). A Sentinel that does not answer within the timeout, or whose answer is
 * no address, names nothing; with no majority, nothing is followed. The watch decides as soon as
 * the answers in hand settle it, not once every Sentinel has answered: it follows an address as
 * soon as more than half of the configured Sentinels have named it (a Sentinel that died with the
 * old master, or a paused one, would otherwise hold every question for the whole timeout), and
 * concludes there is no majority as soon as no address can reach one with the answers still
 * outstanding (those that come later are ignored). So a question whose answers so far split, or
 * name nothing, with the deciding ones outstanding, still waits for them, up to the timeout. Every
 * Sentinel announces a failover once it has learnt of it (the one that ran it first, the others
 * within a couple of seconds), and each announcement asks again, so a failover is followed once a
 * majority names the new master: with three Sentinels, at the second one's announcement. One
 * question at a time: the announcements that arrive while one is under way (until it is decided)
 * are answered together by one more once it is, however many they are.
 *
 * <p>Only a confirmed master other than the last one followed is passed on; after a subscription
 * is made or made again (a Sentinel that was unreachable, or Lettuce reconnecting one), the next
 * confirmed master is passed on even if it is that one, as an announcement of a switch away from
 * it may have been missed meanwhile (the cost: one more reconnection). A message that does not read
 * as {@code <master name> <ip> <port> <ip> <port>}, or a Sentinel's answer that is no address, is
 * ignored with a WARN that does not repeat it. From then on the store connects through a URI that
 * asks first a Sentinel that named the confirmed master, then the others in the configured order:
 * a Sentinel that has not learnt of the failover yet would name the old master again.
 *
 * <p>A Sentinel that cannot be reached when the store connects is subscribed to on a later
 * connection; once subscribed, Lettuce reconnects and subscribes again by itself. An announcement
 * made while no subscription was up, or one no majority of the Sentinels confirms (most of them
 * unreachable), is missed: then the store leaves the old master when Sentinel demotes it, as
 * without this watch.
 */
final class SentinelWatch {
  /** The channel on which a Sentinel announces {@code <master name> <old ip> <old port> <new ip> <new port>}. */
  static final String SWITCH_MASTER = "+switch-master";

  private static final Logger log = LoggerFactory.getLogger(SentinelWatch.class);
  /** No question to the Sentinels under way. */
  private static final int IDLE = 0;
  /** A question to the Sentinels under way. */
  private static final int ASKING = 1;
  /** A question under way, and an announcement arrived since it was asked: ask once more after it. */
  private static final int ASKING_AGAIN = 2;

  private final RedisClient client;
  private final RedisURI configured;
  private final String masterId;
  private final List<RedisURI> sentinels;
  /** Told of each new master followed, {@code <ip>:<port>}. */
  private final Consumer<String> switched;
  /** The longest the watch waits for a Sentinel's answer, connecting included. */
  private final Duration answerTimeout;
  /** Per Sentinel, its subscription (done once subscribed), or null before the first attempt. */
  private final AtomicReferenceArray<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> subscriptions;
  /** Per Sentinel, the connection it is asked on (kept between questions), or null before the first. */
  private final AtomicReferenceArray<CompletableFuture<StatefulRedisSentinelConnection<String, String>>> askers;
  /** {@link #IDLE}, {@link #ASKING} or {@link #ASKING_AGAIN}. */
  private final AtomicInteger asking = new AtomicInteger(IDLE);
  /** The old master of the latest announcement, {@code <ip> <port>}: not followed if confirmed. */
  private volatile String announcedOld;
  /** The confirmed master last followed, {@code <ip> <port>}; null before the first. */
  private final AtomicReference<String> followed = new AtomicReference<>();
  /** The URI the store connects with: the configured one until an announcement is followed. */
  private volatile RedisURI connectUri;
  private volatile boolean closed;

  /**
   * @param uri a {@code redis-sentinel://} URI: Sentinels and a master id
   * @param answerTimeout the longest to wait for a Sentinel's answer, connecting included
   * @param switched told, on a Lettuce event loop (it must not block), of each new master followed
   *     ({@code <ip>:<port>}), once {@link #connectUri()} asks first a Sentinel that named it
   */
  SentinelWatch(RedisClient client, RedisURI uri, Duration answerTimeout, Consumer<String> switched) {
    this.client = client;
    this.configured = uri;
    this.masterId = uri.getSentinelMasterId();
    this.sentinels = List.copyOf(uri.getSentinels());
    this.answerTimeout = answerTimeout;
    this.switched = switched;
    this.subscriptions = new AtomicReferenceArray<>(sentinels.size());
    this.askers = new AtomicReferenceArray<>(sentinels.size());
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
    }).whenComplete((c, e) -> handOver(c, e, done));
  }

  /**
   * Completes {@code done} with connection {@code c}, or with {@code e} if making it failed; a
   * connection made after {@link #close()} is closed (the client's shutdown would close it too).
   */
  private <C extends StatefulConnection<?, ?>> void handOver(C c, Throwable e, CompletableFuture<C> done) {
    if (e != null) {
      done.completeExceptionally(e);
      return;
    }
    if (closed) {
      c.closeAsync();
    }
    done.complete(c);
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
    announcedOld = words[1] + " " + words[2];
    if (asking.getAndUpdate(state -> state == IDLE ? ASKING : ASKING_AGAIN) == IDLE) {
      ask();
    }
  }

  /**
   * Asks every Sentinel which node it names as the master now and, as soon as the answers in hand
   * settle it, follows the one a majority names or concludes that none can (see the class comment),
   * then asks again if an announcement arrived meanwhile. Answers that come after that are ignored.
   */
  private void ask() {
    if (closed) {
      asking.set(IDLE);
      return;
    }
    Round round = new Round(sentinels.size());
    for (int i = 0; i < sentinels.size(); i++) {
      int sentinel = i;
      answer(i).thenAccept(address -> {
        Settled settled = round.answered(sentinel, address);
        if (settled == null) {
          return; // not settled yet, or settled before this answer
        }
        try {
          decide(settled);
        } finally {
          if (!asking.compareAndSet(ASKING, IDLE)) {
            asking.set(ASKING);
            ask();
          }
        }
      });
    }
  }

  /**
   * One question to every Sentinel: the answers so far, until they settle which master a majority
   * names, or that none can.
   */
  private static final class Round {
    /** Per Sentinel, the master it named, {@code <ip> <port>}; null while unanswered or for none. */
    private final String[] named;
    private int outstanding;
    private boolean settled;

    Round(int sentinels) {
      this.named = new String[sentinels];
      this.outstanding = sentinels;
    }

    /**
     * Records Sentinel {@code i}'s answer ({@code <ip> <port>}, or null for none).
     *
     * @return how the round ended, if this answer settles it: more than half of the Sentinels have
     *     named one master, or no master can reach that many with the answers outstanding; else
     *     null (also for every answer after the one that settled it)
     */
    synchronized Settled answered(int i, String address) {
      if (settled) {
        return null; // late: the round was decided without it
      }
      named[i] = address;
      outstanding--;
      int most = 0;
      int leader = -1;
      for (int c = 0; c < named.length; c++) {
        if (named[c] != null) {
          int n = (int) Arrays.stream(named).filter(named[c]::equals).count();
          if (n > most) {
            most = n;
            leader = c;
          }
        }
      }
      if (most * 2 <= named.length && (most + outstanding) * 2 > named.length) {
        return null; // the answers outstanding may still make a majority
      }
      settled = true;
      return most * 2 > named.length ? new Settled(named[leader], leader) : Settled.NO_MAJORITY;
    }
  }

  /**
   * How a round ended: the master more than half of the Sentinels named, {@code <ip> <port>}, and
   * one Sentinel that named it; or, with a null master, no majority.
   */
  private record Settled(String master, int namedBy) {
    static final Settled NO_MAJORITY = new Settled(null, -1);
  }

  /** Follows the master a round settled on, unless it is the master left or the one followed already. */
  private void decide(Settled round) {
    String master = round.master();
    String last = followed.get();
    if (master == null) {
      log.debug("ModelGuard quota store: not following the new master '{}' a Redis Sentinel announced: no majority "
          + "of the {} Sentinels names one master now", masterId, sentinels.size());
      return;
    }
    if (master.equals(announcedOld)) {
      log.debug("ModelGuard quota store: not following the new master '{}' a Redis Sentinel announced: a majority "
          + "of the Sentinels still name the master it announced as left, {}", masterId, master.replace(' ', ':'));
      return;
    }
    if (closed || master.equals(last) || !followed.compareAndSet(last, master)) {
      return; // followed already
    }
    connectUri = askingFirst(sentinels.get(round.namedBy()));
    switched.accept(master.replace(' ', ':'));
  }

  /**
   * Sentinel {@code i}'s master now, {@code <ip> <port>}, or null if it named none within the
   * timeout, or no address; never fails.
   */
  private CompletableFuture<String> answer(int i) {
    RedisURI sentinel = sentinels.get(i);
    return asker(i)
        .thenCompose(c -> c.async().getMasterAddrByName(masterId).toCompletableFuture())
        .orTimeout(answerTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .handle((address, e) -> {
          if (e != null || !(address instanceof InetSocketAddress)) {
            return null; // no answer, an error reply (no Sentinel there), or no such master
          }
          InetSocketAddress a = (InetSocketAddress) address;
          String port = Integer.toString(a.getPort());
          if (!isAddress(a.getHostString(), port)) {
            log.warn("ModelGuard quota store: ignored a malformed master address from Redis Sentinel {}:{}",
                sentinel.getHost(), sentinel.getPort());
            return null;
          }
          return a.getHostString() + " " + port;
        });
  }

  /** The connection Sentinel {@code i} is asked on: the one made before, or a new one if that failed. */
  private CompletableFuture<StatefulRedisSentinelConnection<String, String>> asker(int i) {
    while (true) {
      CompletableFuture<StatefulRedisSentinelConnection<String, String>> current = askers.get(i);
      if (current != null && !current.isCompletedExceptionally()) {
        return current;
      }
      CompletableFuture<StatefulRedisSentinelConnection<String, String>> next = new CompletableFuture<>();
      if (askers.compareAndSet(i, current, next)) {
        try {
          client.connectSentinelAsync(StringCodec.UTF8, sentinels.get(i)).whenComplete((c, e) -> handOver(c, e, next));
        } catch (RuntimeException e) {
          next.completeExceptionally(e);
        }
        return next;
      }
    }
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

  /**
   * Closes the subscriptions and the connections the Sentinels are asked on; idempotent. Those
   * still being made are closed once made.
   */
  void close() {
    closed = true;
    for (int i = 0; i < sentinels.size(); i++) {
      CompletableFuture<StatefulRedisPubSubConnection<String, String>> s = subscriptions.get(i);
      if (s != null && s.isDone() && !s.isCompletedExceptionally()) {
        s.join().closeAsync();
      }
      CompletableFuture<StatefulRedisSentinelConnection<String, String>> a = askers.get(i);
      if (a != null && a.isDone() && !a.isCompletedExceptionally()) {
        a.join().closeAsync();
      }
    }
  }
}
