package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link HostResolver#system(Duration)}: its time limits, over a lookup that never answers. */
class HostResolverTest {
  /** Released after each test, so the abandoned lookups end. */
  private final CountDownLatch dnsAnswers = new CountDownLatch(1);
  /** How many lookups began (a lookup cancelled before its thread ran it never does). */
  private final AtomicInteger lookupsStarted = new AtomicInteger();
  /** Like the JDK's own lookup waiting on a DNS server that never answers: deaf to interrupts. */
  private final SystemResolver.Lookup hanging = host -> {
    lookupsStarted.incrementAndGet();
    while (true) {
      try {
        dnsAnswers.await();
        throw new UnknownHostException(host);
      } catch (InterruptedException e) {
        // keeps waiting
      }
    }
  };

  @AfterEach
  void release() {
    dnsAnswers.countDown();
  }

  @Test
  void theJvmResolverAnswersFromTheHostsFile() throws UnknownHostException {
    assertThat(HostResolver.system(Duration.ofSeconds(10)).resolve("localhost"))
        .isNotEmpty().allSatisfy(a -> assertThat(a.isLoopbackAddress()).isTrue());
  }

  @Test
  void aLookupThatNeverAnswersIsAbandonedAtTheResolversTimeout() {
    HostResolver r = new SystemResolver(Duration.ofMillis(50), hanging);

    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> r.resolve("slow.example"))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolution timed out"));
  }

  @Test
  void aCallerWithLessTimeLeftWaitsOnlyThatLong() {
    // The resolver would wait a day; the caller has 50 ms. Waiting the day would trip the 30 s guard.
    HostResolver r = new SystemResolver(Duration.ofDays(1), hanging);

    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> r.resolve("slow.example", Duration.ofMillis(50)))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolution timed out"));
  }

  @Test
  void eightHangingLookupsRefuseTheNinthWhenItsTimeIsUp() throws Exception {
    SystemResolver r = new SystemResolver(Duration.ofDays(1), hanging);
    // A caller gives up after 1 ms; on a busy machine that can be before its lookup's thread even
    // started, and a lookup cancelled before it starts frees its thread. So call until eight
    // lookups are really hanging, each in one of the resolver's eight threads.
    // (Each name under its own domain: a domain holds at most two threads.)
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; lookupsStarted.get() < 8; i++) {
        String host = "slow" + i + ".example";
        assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(1))).isInstanceOf(UnknownHostException.class);
      }
    });

    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> r.resolve("other.example", Duration.ofMillis(200)))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolver busy"));
  }

  @Test
  void namesOfOneDomainWhoseServerNeverAnswersCannotTakeTheThreadsOfOtherDomains() throws Exception {
    // An attacker's DNS server that never answers, under names it makes up: abandoned lookups keep
    // their threads, so before the per-domain share eight such requests failed every other fetch.
    SystemResolver.Lookup lookups = host -> host.endsWith(".attacker.example")
        ? hanging.lookUp(host)
        : new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    SystemResolver r = new SystemResolver(Duration.ofDays(1), lookups);
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; i < 2 * SystemResolver.THREADS; i++) {
        String host = "slow" + i + ".attacker.example";
        assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(20))).isInstanceOf(UnknownHostException.class);
      }
      assertThat(r.resolve("images.example.org", Duration.ofSeconds(20)))
          .extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
    });
    assertThatThrownBy(() -> r.resolve("slow-again.Attacker.Example.", Duration.ofMillis(200)))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolver busy for attacker.example");
  }

  @Test
  void aLookupBeyondItsDomainsShareWaitsForASlotRatherThanFail() throws Exception {
    // Lookups of one busy image host overlap under load; the third used to fail at once as an
    // unresolvable host ("resolver busy for example.com") while the other two were answering.
    CountDownLatch answer = new CountDownLatch(1);
    SystemResolver.Lookup slowThenAnswers = host -> {
      lookupsStarted.incrementAndGet();
      try {
        answer.await();
      } catch (InterruptedException e) {
        throw new UnknownHostException("interrupted");
      }
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    };
    SystemResolver r = new SystemResolver(Duration.ofDays(1), slowThenAnswers);
    ExecutorService callers = Executors.newFixedThreadPool(3);
    try {
      List<Future<List<InetAddress>>> first = new ArrayList<>();
      for (int i = 0; i < SystemResolver.PER_DOMAIN; i++) {
        String host = "cdn" + i + ".example.com";
        first.add(callers.submit(() -> r.resolve(host, Duration.ofSeconds(20))));
      }
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        while (lookupsStarted.get() < SystemResolver.PER_DOMAIN) {
          Thread.onSpinWait();
        }
      });
      Thread[] third = new Thread[1];
      Future<List<InetAddress>> waiting = callers.submit(() -> {
        third[0] = Thread.currentThread();
        return r.resolve("images.example.com", Duration.ofSeconds(20));
      });
      // Only once the third caller is waiting (or, before the fix, has failed) may the others answer.
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        while (!waiting.isDone() && (third[0] == null || third[0].getState() != Thread.State.TIMED_WAITING)) {
          Thread.onSpinWait();
        }
      });
      answer.countDown();

      for (Future<List<InetAddress>> f : first) {
        assertThat(f.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
      }
      assertThat(waiting.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress)
          .containsExactly("203.0.113.7");
    } finally {
      answer.countDown();
      callers.shutdownNow();
    }
  }

  @Test
  void oneCallerNamingManyNeverAnsweringDomainsLeavesOtherCallersHalfTheSlots() throws Exception {
    // Domains are cheap to register: one tenant naming a new never-answering domain per request
    // used to take all eight slots, two per domain, and every other tenant's lookups waited out
    // their time. Now a caller's lookups hold at most half of them.
    SystemResolver.Lookup lookups = host -> host.endsWith(".example")
        ? hanging.lookUp(host)
        : new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    SystemResolver r = new SystemResolver(Duration.ofDays(1), lookups);
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; i < 2 * SystemResolver.THREADS; i++) {
        String host = "slow.attacker" + i + ".example";
        assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(20), "t:acme")).isInstanceOf(UnknownHostException.class);
      }
      assertThat(lookupsStarted.get()).isLessThanOrEqualTo(SystemResolver.PER_CALLER);

      assertThat(r.resolve("images.example.org", Duration.ofSeconds(20), "t:globex"))
          .extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
      assertThat(r.resolve("cdn.example.net", Duration.ofSeconds(20), "a:198.51.100.7"))
          .extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
    });
    assertThatThrownBy(() -> r.resolve("again.attacker99.example", Duration.ofMillis(200), "t:acme"))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolver busy for caller t:acme");
  }

  @Test
  void callersNamingNeverAnsweringDomainsTogetherLeaveSlotsToEveryoneElse() {
    // Each caller may hold half the slots: before the reserve, two tenants naming never-answering
    // domains held all eight between them, and every other caller's lookups waited out their time.
    SystemResolver.Lookup lookups = host -> host.endsWith(".example")
        ? hanging.lookUp(host)
        : new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    SystemResolver r = new SystemResolver(Duration.ofDays(1), lookups);
    List<String> attackers = List.of("t:acme", "t:initech", "t:umbrella", "a:203.0.113.9");
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int c = 0; c < attackers.size(); c++) {
        for (int i = 0; i < 2 * SystemResolver.THREADS; i++) {
          String host = "img.c" + c + "-" + i + ".example"; // a domain of its own: past the domain share
          String caller = attackers.get(c);
          assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(20), caller)).isInstanceOf(UnknownHostException.class);
        }
      }
      // The first takes its share of four; each of the others one of the three left over it.
      assertThat(r.slotState()).startsWith("held=7 ");

      assertThat(r.resolve("images.example.org", Duration.ofSeconds(20), "t:globex"))
          .extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
    });
    assertThatThrownBy(() -> r.resolve("img.again.example", Duration.ofMillis(200), "t:initech"))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolver busy for caller t:initech");
  }

  @Test
  void noFourCallersHoldEverySlotWhateverTheOrderOfTakesAndFrees() {
    assertThat(mostHeldTogetherBy(1)).isEqualTo(SystemResolver.PER_CALLER);
    for (int k = 2; k <= 4; k++) {
      assertThat(mostHeldTogetherBy(k)).as("%d callers", k).isEqualTo(3 + k).isLessThan(SystemResolver.THREADS);
    }
    assertThat(mostHeldTogetherBy(5)).as("five callers").isEqualTo(SystemResolver.THREADS);
  }

  /**
   * The most slots {@code k} callers can hold together under {@link SystemResolver#callerMayTake},
   * by a search of every state they reach while they and other callers (each holding none when it
   * takes a slot, the kindest case for the k) take and free slots in any order.
   */
  private static int mostHeldTogetherBy(int k) {
    // A state: the k callers' slots, sorted (which caller holds what does not matter), then the others'.
    Set<List<Integer>> seen = new HashSet<>();
    ArrayDeque<List<Integer>> todo = new ArrayDeque<>();
    List<Integer> start = new ArrayList<>(Collections.nCopies(k + 1, 0));
    seen.add(start);
    todo.add(start);
    int most = 0;
    while (!todo.isEmpty()) {
      List<Integer> s = todo.poll();
      int theirs = s.subList(0, k).stream().mapToInt(Integer::intValue).sum();
      int held = theirs + s.get(k);
      most = Math.max(most, theirs);
      List<List<Integer>> next = new ArrayList<>();
      for (int i = 0; i <= k; i++) {
        int own = i < k ? s.get(i) : 0;
        if (held < SystemResolver.THREADS && SystemResolver.callerMayTake(held, own)) {
          next.add(with(s, i, s.get(i) + 1, k));
        }
        if (s.get(i) > 0) {
          next.add(with(s, i, s.get(i) - 1, k));
        }
      }
      for (List<Integer> n : next) {
        if (seen.add(n)) {
          todo.add(n);
        }
      }
    }
    return most;
  }

  private static List<Integer> with(List<Integer> state, int i, int value, int k) {
    List<Integer> n = new ArrayList<>(state);
    n.set(i, value);
    List<Integer> callers = new ArrayList<>(n.subList(0, k));
    callers.sort(null);
    callers.add(n.get(k));
    return List.copyOf(callers);
  }

  @Test
  void aLookupBeyondItsCallersShareGetsTheFirstSlotItsCallerFrees() throws Exception {
    CountDownLatch answer = new CountDownLatch(1);
    SystemResolver.Lookup slowThenAnswers = host -> {
      lookupsStarted.incrementAndGet();
      try {
        answer.await();
      } catch (InterruptedException e) {
        throw new UnknownHostException("interrupted");
      }
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    };
    SystemResolver r = new SystemResolver(Duration.ofDays(1), slowThenAnswers);
    ExecutorService callers = Executors.newCachedThreadPool();
    try {
      List<Future<List<InetAddress>>> first = new ArrayList<>();
      for (int i = 0; i < SystemResolver.PER_CALLER; i++) {
        String host = "img.site" + i + ".example";
        first.add(callers.submit(() -> r.resolve(host, Duration.ofSeconds(20), "t:acme")));
      }
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        while (lookupsStarted.get() < SystemResolver.PER_CALLER) {
          Thread.onSpinWait();
        }
      });
      AtomicReference<Thread> beyond = new AtomicReference<>();
      Future<List<InetAddress>> waiting = callers.submit(() -> {
        beyond.set(Thread.currentThread());
        return r.resolve("img.other.example", Duration.ofSeconds(20), "t:acme");
      });
      awaitTimedWaiting(waiting, beyond);
      assertThat(lookupsStarted.get()).isEqualTo(SystemResolver.PER_CALLER);
      answer.countDown();

      for (Future<List<InetAddress>> f : first) {
        assertThat(f.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
      }
      assertThat(waiting.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress)
          .containsExactly("203.0.113.7");
    } finally {
      answer.countDown();
      callers.shutdownNow();
    }
  }

  @Test
  void aFreedSlotGoesToAWaiterItFitsEvenBehindOneItDoesNot() throws Exception {
    // The first waiter's domain keeps its share held by lookups that never answer; the second
    // waiter only needs any slot. When other slots free, the second must be handed one at once,
    // not left waiting behind the first.
    CountDownLatch answer = new CountDownLatch(1);
    SystemResolver.Lookup lookups = host -> {
      if (host.endsWith(".stuck.example")) {
        return hanging.lookUp(host);
      }
      lookupsStarted.incrementAndGet();
      try {
        answer.await();
      } catch (InterruptedException e) {
        throw new UnknownHostException("interrupted");
      }
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    };
    SystemResolver r = new SystemResolver(Duration.ofDays(1), lookups);
    ExecutorService callers = Executors.newCachedThreadPool();
    try {
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        for (int i = 0; lookupsStarted.get() < SystemResolver.PER_DOMAIN; i++) {
          String host = "n" + i + ".stuck.example";
          assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(20))).isInstanceOf(UnknownHostException.class);
        }
      });
      int others = SystemResolver.THREADS - SystemResolver.PER_DOMAIN;
      List<Future<List<InetAddress>>> filling = new ArrayList<>();
      for (int i = 0; i < others; i++) {
        String host = "img.site" + i + ".example";
        filling.add(callers.submit(() -> r.resolve(host, Duration.ofSeconds(20))));
      }
      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        while (lookupsStarted.get() < SystemResolver.PER_DOMAIN + others) {
          Thread.onSpinWait();
        }
      });
      AtomicReference<Thread> stuck = new AtomicReference<>();
      Future<List<InetAddress>> stuckWaiter = callers.submit(() -> {
        stuck.set(Thread.currentThread());
        return r.resolve("again.stuck.example", Duration.ofSeconds(20));
      });
      awaitTimedWaiting(stuckWaiter, stuck);
      AtomicReference<Thread> other = new AtomicReference<>();
      Future<List<InetAddress>> otherWaiter = callers.submit(() -> {
        other.set(Thread.currentThread());
        return r.resolve("images.example.org", Duration.ofSeconds(20));
      });
      awaitTimedWaiting(otherWaiter, other);
      answer.countDown();

      for (Future<List<InetAddress>> f : filling) {
        assertThat(f.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
      }
      assertThat(otherWaiter.get(20, TimeUnit.SECONDS)).extracting(InetAddress::getHostAddress)
          .containsExactly("203.0.113.7");
      assertThat(stuckWaiter).isNotDone();
    } finally {
      answer.countDown();
      callers.shutdownNow();
    }
  }

  /** Until the caller in {@code thread} waits (for a slot, or for its answer) or is done. */
  private static void awaitTimedWaiting(Future<?> call, AtomicReference<Thread> thread) {
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      while (!call.isDone() && (thread.get() == null || thread.get().getState() != Thread.State.TIMED_WAITING)) {
        Thread.onSpinWait();
      }
    });
  }

  @Test
  void aDomainIsTheRegistrableDomainUnderThePublicSuffix() {
    assertThat(SystemResolver.domainOf("a.b.Example.COM.")).isEqualTo("example.com");
    assertThat(SystemResolver.domainOf("example.com")).isEqualTo("example.com");
    assertThat(SystemResolver.domainOf("a.evil.co.uk")).isEqualTo("evil.co.uk");
    assertThat(SystemResolver.domainOf("images.bbc.co.uk")).isEqualTo("bbc.co.uk");
    assertThat(SystemResolver.domainOf("cdn.shop.example.com.au")).isEqualTo("example.com.au");
  }

  @Test
  void aNameThePublicSuffixListCannotPlaceFallsBackToItsLastTwoLabels() {
    assertThat(SystemResolver.domainOf("localhost")).isEqualTo("localhost");
    assertThat(SystemResolver.domainOf("slow1.attacker.example")).isEqualTo("attacker.example");
    assertThat(SystemResolver.domainOf("co.uk")).isEqualTo("co.uk");
    assertThat(SystemResolver.domainOf("a..evil.co.uk")).isEqualTo("co.uk");
  }

  @Test
  void hangingLookupsUnderOneCoUkDomainLeaveOtherCoUkSitesTheirShare() throws Exception {
    // Before, every *.co.uk name counted as "co.uk": two hanging lookups under evil.co.uk refused
    // every other British site. Now evil.co.uk holds its own two threads, and only those.
    SystemResolver.Lookup lookups = host -> host.endsWith(".evil.co.uk")
        ? hanging.lookUp(host)
        : new InetAddress[] {InetAddress.getByAddress(host, new byte[] {(byte) 203, 0, 113, 7})};
    SystemResolver r = new SystemResolver(Duration.ofDays(1), lookups);
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; lookupsStarted.get() < SystemResolver.PER_DOMAIN; i++) {
        String host = "slow" + i + ".evil.co.uk";
        assertThatThrownBy(() -> r.resolve(host, Duration.ofMillis(20))).isInstanceOf(UnknownHostException.class);
      }
      assertThat(r.resolve("images.bbc.co.uk", Duration.ofSeconds(20)))
          .extracting(InetAddress::getHostAddress).containsExactly("203.0.113.7");
    });
    assertThatThrownBy(() -> r.resolve("b.evil.co.uk", Duration.ofMillis(200)))
        .isInstanceOf(UnknownHostException.class).hasMessage("resolver busy for evil.co.uk");
  }

  @Test
  void refusesANonPositiveTimeout() {
    assertThatThrownBy(() -> HostResolver.system(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SystemResolver(Duration.ofSeconds(-1), InetAddress::getAllByName))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
