package io.modelguard.input;

import com.google.common.net.InternetDomainName;
import io.modelguard.internal.LogText;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link HostResolver#system(Duration)}: a blocking lookup that cannot be interrupted, run on one
 * of the resolver's daemon threads and abandoned when the caller's time is up. An abandoned lookup
 * keeps its slot until the operating system's resolver gives up, which may be long after the
 * caller's timeout, so at most {@value #THREADS} lookups run at once, under two shares:
 *
 * <ul>
 *   <li>the lookups of one registrable domain ({@code evil.co.uk} for {@code a.evil.co.uk}, see
 *       {@link #domainOf}) hold at most {@value #PER_DOMAIN} slots: names under one domain whose
 *       DNS server never answers cannot take every slot from the lookups of other domains, and
 *       unrelated sites under one public suffix ({@code co.uk}) do not share one share;
 *   <li>the lookups made on behalf of one caller ({@link #resolve(String, Duration, String)}: a
 *       tenant, or the client address of an unauthenticated request) hold at most {@value
 *       #PER_CALLER}: registering domains is cheap, so without this share one caller naming a few
 *       never-answering domains would hold every slot, and every other caller's lookups would wait
 *       out their time. The share is a hard cap, not a share of what is idle: a slot held by a
 *       lookup that never answers cannot be taken back when others need it;
 *   <li>the last {@value #RESERVE} free slots are kept for callers holding none: a caller that
 *       already holds a slot takes another only if {@value #RESERVE} stay free after it. So once
 *       five slots are held, a caller takes one only while it holds none, and {@code k}
 *       callers whose lookups never answer hold together at most {@value #PER_CALLER} slots if
 *       {@code k = 1}, and at most {@code 3 + k} if {@code k > 1} (see {@link #callerMayTake}): any
 *       four leave at least one slot to everyone else, where without the reserve two took all
 *       eight. Five or more callers together can still hold every slot.
 * </ul>
 *
 * <p>A lookup beyond a share, or beyond {@value #THREADS} in all, waits for a slot within the
 * caller's time, rather than failing at once: the lookups of a popular image host, answered in
 * microseconds from the JDK's cache, may overlap now and then under load, and must not fail for
 * it. A lookup frees its slot when its answer reaches the caller, or, abandoned, when it returns;
 * the slot is handed to the longest-waiting lookup whose shares now allow it, and only a lookup
 * handed a slot is woken.
 */
final class SystemResolver implements HostResolver {
  /** The blocking lookup: {@link InetAddress#getAllByName} outside tests. */
  @FunctionalInterface
  interface Lookup {
    InetAddress[] lookUp(String host) throws UnknownHostException;
  }

  static final int THREADS = 8;
  static final int PER_DOMAIN = 2;
  /**
   * Half the slots: a caller may hold at most this many, so however many domains it names, the
   * other half stays for everyone else; and a busy caller's lookups of cached names (microseconds
   * each) rarely wait for it.
   */
  static final int PER_CALLER = THREADS / 2;
  /**
   * The free slots a caller already holding one cannot take: three, so that the lookups of up to
   * four callers can never hold all {@value #THREADS} (see {@link #callerMayTake}). A caller's
   * lookups of cached names (microseconds each) rarely wait for it, even with five slots held.
   */
  static final int RESERVE = 3;
  private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final Logger log = LoggerFactory.getLogger(SystemResolver.class);

  private final long timeoutNanos;
  private final Lookup lookup;
  private final ThreadPoolExecutor pool;
  /** Guards the counts below and {@link #waiters}. */
  private final ReentrantLock slots = new ReentrantLock();
  /** Lookups holding a slot: running, or abandoned and still running. */
  private int held;
  /** The same, by domain; a domain leaves when its count is back to zero. */
  private final Map<String, Integer> heldByDomain = new HashMap<>();
  /** The same, by caller (lookups without one are not counted here); as bounded as the slots. */
  private final Map<String, Integer> heldByCaller = new HashMap<>();
  /**
   * Lookups waiting for a slot, oldest first. None of them fits the slots as they stand: a freed
   * slot is handed to the first one it fits before anyone else sees it.
   */
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final AtomicLong nextWarning = new AtomicLong(System.nanoTime());

  /** A lookup waiting for a slot, woken only when one was taken for it. */
  private final class Waiter {
    final String domain;
    final String caller;
    final Condition granted = slots.newCondition();
    boolean hasSlot;

    Waiter(String domain, String caller) {
      this.domain = domain;
      this.caller = caller;
    }
  }

  SystemResolver(Duration timeout, Lookup lookup) {
    this(timeout, lookup, null);
  }

  /** As {@link #SystemResolver(Duration, Lookup)}, running lookups on {@code pool} (tests); null for its own. */
  SystemResolver(Duration timeout, Lookup lookup, ThreadPoolExecutor pool) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("HostResolver.system timeout must be positive, was " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.pool = pool != null ? pool : ownPool();
  }

  private static ThreadPoolExecutor ownPool() {
    AtomicInteger threads = new AtomicInteger();
    // Twice the slots: a lookup frees its slot as its answer reaches the caller, a moment before
    // its thread is free to take the next one.
    return new ThreadPoolExecutor(0, 2 * THREADS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "modelguard-dns-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** The slots as they stand: held, held by domain, held by caller, waiting; for tests. */
  String slotState() {
    slots.lock();
    try {
      return "held=" + held + " domains=" + heldByDomain + " callers=" + heldByCaller + " waiting=" + waiters.size();
    } finally {
      slots.unlock();
    }
  }

  @Override
  public List<InetAddress> resolve(String host) throws UnknownHostException {
    return lookUp(host, timeoutNanos, null);
  }

  @Override
  public List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
    // On nobody's behalf (a direct SafeUrlFetcher.fetch): bounded by its domain's share and the total only.
    return lookUp(host, Math.min(timeoutNanos, timeLeft.toNanos()), null);
  }

  /**
   * As {@link #resolve(String, Duration)}, on behalf of {@code caller} (an opaque key such as
   * {@code t:<tenant>} or {@code a:<client address>}), whose lookups hold at most {@value
   * #PER_CALLER} slots, and none of the last {@value #RESERVE} free while they hold one.
   */
  @Override
  public List<InetAddress> resolve(String host, Duration timeLeft, String caller) throws UnknownHostException {
    Objects.requireNonNull(caller, "caller");
    return lookUp(host, Math.min(timeoutNanos, timeLeft.toNanos()), caller);
  }

  private List<InetAddress> lookUp(String host, long waitNanos, String caller) throws UnknownHostException {
    long deadline = System.nanoTime() + waitNanos;
    String domain = domainOf(host);
    reserve(domain, caller, deadline);
    AtomicBoolean holding = new AtomicBoolean(true);
    Runnable free = () -> {
      if (holding.compareAndSet(true, false)) {
        release(domain, caller);
      }
    };
    CompletableFuture<InetAddress[]> answer = new CompletableFuture<>();
    Runnable task = () -> {
      try {
        if (!answer.isDone()) { // not abandoned before its thread got to it
          answer.complete(lookup.lookUp(host));
        }
      } catch (Throwable e) {
        answer.completeExceptionally(e);
      } finally {
        free.run();
      }
    };
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      free.run();
      warnBusy("the resolver's threads were all busy finishing earlier lookups");
      throw new UnknownHostException("resolver busy");
    } catch (Throwable e) {
      free.run(); // no thread could be started (out of native threads, say): the slot was never used
      throw e;
    }
    try {
      InetAddress[] addresses = answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      free.run(); // answered: its thread is only finishing
      return List.of(addresses);
    } catch (TimeoutException e) {
      answer.cancel(false); // the lookup, if it started, runs on (holding its slot) until the system gives up
      throw new UnknownHostException("resolution timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      answer.cancel(false);
      throw new UnknownHostException("interrupted");
    } catch (ExecutionException e) {
      free.run();
      if (e.getCause() instanceof UnknownHostException) {
        throw (UnknownHostException) e.getCause();
      }
      throw new UnknownHostException("resolution failed");
    }
  }

  /**
   * The registrable domain of {@code host}, lower-cased: the public suffix (by the public suffix
   * list Guava ships, private entries such as {@code github.io} included) plus one label, so {@code
   * a.evil.co.uk} and {@code b.evil.co.uk} share {@code evil.co.uk} while {@code bbc.co.uk} is
   * another domain. A name the list cannot place (not under a known suffix, such as {@code
   * attacker.example} or {@code localhost}, a suffix itself, or a name Guava refuses to parse)
   * falls back to its last two labels (the name itself if it has fewer).
   */
  static String domainOf(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    try {
      InternetDomainName name = InternetDomainName.from(h);
      if (name.isUnderPublicSuffix()) {
        return name.topPrivateDomain().toString();
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      // Not a name Guava accepts (an empty label, an odd character): the label rule below still
      // gives every lookup a domain to count against.
    }
    return lastTwoLabels(h);
  }

  private static String lastTwoLabels(String h) {
    int last = h.lastIndexOf('.');
    int secondLast = last <= 0 ? -1 : h.lastIndexOf('.', last - 1);
    return secondLast < 0 ? h : h.substring(secondLast + 1);
  }

  /**
   * Takes a slot for a lookup under {@code domain} on behalf of {@code caller} (or nobody's, if
   * null), waiting until {@code deadline} (a {@link System#nanoTime} value) for one to be handed
   * to it.
   *
   * @throws UnknownHostException {@code resolver busy for <domain>} if the domain's share stayed
   *     held, {@code resolver busy for caller <caller>} if the caller's did, {@code resolver busy}
   *     if every slot did, {@code interrupted} if the caller was
   */
  private void reserve(String domain, String caller, long deadline) throws UnknownHostException {
    boolean domainFull;
    boolean callerFull;
    slots.lock();
    try {
      if (fits(domain, caller)) {
        take(domain, caller);
        return;
      }
      Waiter w = new Waiter(domain, caller);
      waiters.addLast(w);
      try {
        long left = deadline - System.nanoTime();
        while (!w.hasSlot && left > 0) {
          left = w.granted.awaitNanos(left);
        }
      } catch (InterruptedException e) {
        if (w.hasSlot) {
          free(domain, caller); // handed a slot as the interrupt came: pass it on
        }
        Thread.currentThread().interrupt();
        throw new UnknownHostException("interrupted");
      } finally {
        waiters.remove(w); // a no-op if it was handed a slot
      }
      if (w.hasSlot) {
        return;
      }
      domainFull = heldByDomain.getOrDefault(domain, 0) >= PER_DOMAIN;
      callerFull = caller != null && !callerMayTake(held, heldByCaller.getOrDefault(caller, 0));
    } finally {
      slots.unlock();
    }
    // Logged outside the lock: a slow appender must not hold up every other lookup.
    if (domainFull) {
      warnBusy("the lookups of " + domain + " held its " + PER_DOMAIN + " of the resolver's " + THREADS
          + " slots for all of the caller's time");
      throw new UnknownHostException("resolver busy for " + domain);
    }
    if (callerFull) {
      warnBusy("the lookups of caller " + LogText.oneLine(caller, 200) + " held its share of the resolver's "
          + THREADS + " slots (at most " + PER_CALLER + ", and none of the last " + RESERVE
          + " free while it holds one) for all of the caller's time");
      throw new UnknownHostException("resolver busy for caller " + caller);
    }
    warnBusy("the resolver's " + THREADS + " slots were held for all of the caller's time");
    throw new UnknownHostException("resolver busy");
  }

  /** Whether a lookup of {@code domain} for {@code caller} may take a slot now. Under the lock. */
  private boolean fits(String domain, String caller) {
    return held < THREADS && heldByDomain.getOrDefault(domain, 0) < PER_DOMAIN
        && (caller == null || callerMayTake(held, heldByCaller.getOrDefault(caller, 0)));
  }

  /**
   * Whether a caller holding {@code callerHeld} slots may take one more while {@code held} (fewer
   * than {@value #THREADS}) are held in all: below its share, and either holding none or leaving
   * {@value #RESERVE} free.
   *
   * <p>Why {@code k > 1} callers never hold more than {@code 3 + k} slots together: take the last
   * time one of them took a slot while holding one. After it at most {@value #THREADS} - {@value
   * #RESERVE} = 5 were held, at most {@value #PER_CALLER} of them its own; say {@code j} of the
   * others held one or more then. Since then each of the {@code k} gained a slot only while holding
   * none, so each holds at most what it held then, or one. That is at most {@code 5 + (k - 1 - j)}
   * if {@code j > 0}, and {@code 4 + (k - 1)} if not: {@code 3 + k} either way. (Without such a
   * time, each holds at most one.) {@code HostResolverTest} checks the bound over every order of
   * takes and frees.
   */
  static boolean callerMayTake(int held, int callerHeld) {
    return callerHeld < PER_CALLER && (callerHeld == 0 || held < THREADS - RESERVE);
  }

  /** Counts a slot as held by a lookup of {@code domain} for {@code caller}. Under the lock. */
  private void take(String domain, String caller) {
    held++;
    heldByDomain.merge(domain, 1, Integer::sum);
    if (caller != null) {
      heldByCaller.merge(caller, 1, Integer::sum);
    }
  }

  private void release(String domain, String caller) {
    slots.lock();
    try {
      free(domain, caller);
    } finally {
      slots.unlock();
    }
  }

  /**
   * Frees a slot and hands what is free to the waiters it now fits, oldest first, waking only
   * those: the others could not use it. Under the lock.
   */
  private void free(String domain, String caller) {
    held--;
    heldByDomain.computeIfPresent(domain, (d, n) -> n <= 1 ? null : n - 1);
    if (caller != null) {
      heldByCaller.computeIfPresent(caller, (c, n) -> n <= 1 ? null : n - 1);
    }
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext() && held < THREADS; ) {
      Waiter w = it.next();
      if (fits(w.domain, w.caller)) {
        take(w.domain, w.caller);
        w.hasSlot = true;
        it.remove();
        w.granted.signal();
      }
    }
  }

  /** A WARN at most once a minute: a refused lookup reaches the client as an unresolvable host. */
  private void warnBusy(String why) {
    long now = System.nanoTime();
    long next = nextWarning.get();
    if (now - next >= 0 && nextWarning.compareAndSet(next, now + WARN_EVERY_NANOS)) {
      log.warn("ModelGuard: a host lookup was refused: {}; the fetch "
          + "fails as an unresolvable host. Lookups whose DNS server does not answer hold a thread until "
          + "the system resolver gives up (set 'options timeout:1 attempts:1' in resolv.conf), or restrict "
          + "fetches to an allow-list of hosts. Logged at most once a minute.", why);
    }
  }
}
