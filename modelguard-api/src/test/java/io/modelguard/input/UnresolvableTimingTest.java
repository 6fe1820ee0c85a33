package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A host name refused for resolving to an internal address is answered as a name that does not
 * resolve ({@link InternalNameOracleTest}); it must not be answered sooner either. The JVM caches
 * the answers of the internal names the server itself uses, so such a name is refused at once,
 * while a name that does not exist costs a query to the DNS server: without a floor on the time of
 * both answers, the time alone would list the internal names. Time here is a fake ticker, which
 * the resolver's queries and the fetcher's waits move on.
 */
class UnresolvableTimingTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final AtomicLong now = new AtomicLong(1_000 * MS);
  private final List<Long> pauses = new CopyOnWriteArrayList<>();
  private final FakeResolver answers = new FakeResolver()
      .map("jenkins.corp.internal", "10.0.0.5")
      .map("public.example", "93.184.216.34");
  /**
   * What each lookup costs: nothing for a name in the JVM's cache (an internal name the server
   * uses), a query to the split-horizon DNS server for one it does not know, a long one for a name
   * a far server must answer.
   */
  private final Map<String, Long> queryNanos = Map.of("nope.corp.internal", 3 * MS, "slow.example", 250 * MS);
  private final HostResolver timed = host -> {
    now.addAndGet(queryNanos.getOrDefault(host, 0L));
    return answers.resolve(host);
  };

  private SafeUrlFetcher.Builder fetcher() {
    return SafeUrlFetcher.builder().resolver(timed).ticker(now::get).pause(nanos -> {
      pauses.add(nanos);
      now.addAndGet(nanos);
    }).connector((address, timeout) -> {
      throw new AssertionError("no connection expected, was to " + address);
    });
  }

  private long nanosToFetch(SafeUrlFetcher f, String url) {
    long start = now.get();
    FetchResult r = f.fetch(url);
    assertThat(r.decision().reason()).isPresent();
    return now.get() - start;
  }

  @Test
  void anInternalNameFromTheCacheIsAnsweredNoSoonerThanAnUnknownName() {
    SafeUrlFetcher f = fetcher().build();

    long internal = nanosToFetch(f, "http://jenkins.corp.internal/cat.png");
    long unknown = nanosToFetch(f, "http://nope.corp.internal/cat.png");

    assertThat(internal).as("before, the cached internal name was answered at once").isEqualTo(100 * MS)
        .isEqualTo(unknown);
    assertThat(f.fetch("http://jenkins.corp.internal/").decision().detail())
        .isEqualTo(f.fetch("http://nope.corp.internal/").decision().detail());
  }

  @Test
  void checkingWithoutFetchingKeepsTheSameFloor() {
    SafeUrlFetcher f = fetcher().minUnresolvableTime(Duration.ofMillis(20)).build();

    long start = now.get();
    assertThat(f.check("https://jenkins.corp.internal/").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    long internal = now.get() - start;
    start = now.get();
    assertThat(f.check("https://nope.corp.internal/").failure()).contains(FetchFailure.UNRESOLVABLE);

    assertThat(internal).isEqualTo(20 * MS).isEqualTo(now.get() - start);
  }

  @Test
  void aLookupLongerThanTheFloorIsAnsweredWhenItEnds() {
    assertThat(nanosToFetch(fetcher().build(), "http://slow.example/")).isEqualTo(250 * MS);
    assertThat(pauses).isEmpty();
  }

  @Test
  void anAllowedNameAndARefusalBeforeAnyLookupAreNotDelayed() {
    SafeUrlFetcher f = fetcher().build();

    assertThat(f.check("http://public.example/").isAllowed()).isTrue();
    assertThat(f.check("http://localhost/").refusal()).contains(UrlRefusal.DENIED_NAME);
    assertThat(f.check("http://10.0.0.5/").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(pauses).isEmpty();
  }

  @Test
  void theWaitEndsAtTheFetchsDeadline() {
    SafeUrlFetcher f = fetcher().build();
    long start = now.get();

    FetchResult r = f.fetch("http://jenkins.corp.internal/", 1024, start + 40 * MS);

    assertThat(r.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(now.get() - start).isEqualTo(40 * MS);
  }

  @Test
  void zeroTurnsTheFloorOff() {
    SafeUrlFetcher f = fetcher().minUnresolvableTime(Duration.ZERO).build();

    assertThat(nanosToFetch(f, "http://jenkins.corp.internal/")).isZero();
    assertThat(pauses).isEmpty();
  }

  @Test
  void theDefaultFloorIsNeverLongerThanTheConnectTimeout() {
    SafeUrlFetcher f = fetcher().connectTimeout(Duration.ofMillis(30)).build();

    assertThat(nanosToFetch(f, "http://jenkins.corp.internal/")).isEqualTo(30 * MS);
  }

  @Test
  void refusesAFloorThatIsNegativeOrLongerThanTheConnectTimeout() {
    assertThatThrownBy(() -> SafeUrlFetcher.builder().minUnresolvableTime(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minUnresolvableTime");
    assertThatThrownBy(() -> SafeUrlFetcher.builder().minUnresolvableTime(Duration.ofSeconds(3)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SafeUrlFetcher.minUnresolvableTime (PT3S) must not be longer than connectTimeout (PT2S)");
  }

  @Test
  void anInterruptEndsTheWaitAndIsKept() {
    SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(timed).ticker(now::get).pause(nanos -> {
      throw new InterruptedException();
    }).build();
    try {
      assertThat(f.check("http://jenkins.corp.internal/").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }
}
