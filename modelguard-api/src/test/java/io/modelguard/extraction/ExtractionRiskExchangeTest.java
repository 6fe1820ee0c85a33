package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.DigitsRequest;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.MutableClock;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Two instances' defences sharing raised levels through one in-process {@link RiskExchange}: what
 * one raises holds on the other, decayed from when it was raised, never echoed, and hostile raises
 * change nothing they should not.
 */
class ExtractionRiskExchangeTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]).derive("digits");
  private static final double[] P = {0.1, 0.7, 0.2};
  private static final String ANSWER = "{\"probabilities\":[0.1,0.7,0.2]}";

  private final MutableClock clockA = MutableClock.standard();
  private final MutableClock clockB = MutableClock.standard();
  private final ExtractionDefenceTest.ScriptedDetector detectorA = flagging();
  private final ExtractionDefenceTest.ScriptedDetector detectorB = flagging();

  /** Flags every query whose first feature is 10 or more (levels at 1, 2, 3 and 3.9, one hour's half-life). */
  private static ExtractionDefenceTest.ScriptedDetector flagging() {
    ExtractionDefenceTest.ScriptedDetector d = new ExtractionDefenceTest.ScriptedDetector();
    for (int i = 10; i < 20; i++) {
      d.flagging.add((double) i);
    }
    return d;
  }

  private static double[] x(double first) {
    return new double[] {first, 1, 2};
  }

  private ExtractionDefence defence(MutableClock clock, ExtractionDefenceTest.ScriptedDetector detector,
      RiskExchange exchange) {
    return ExtractionDefenceTest.scripted(KEYS, clock, detector).exchange(exchange, "digits").build();
  }

  /** {@link #defence} keying clients by tenant ({@link ClientScope#TENANT}). */
  private ExtractionDefence tenantDefence(MutableClock clock, ExtractionDefenceTest.ScriptedDetector detector,
      RiskExchange exchange) {
    return ExtractionDefenceTest.scripted(KEYS, clock, detector).clientScope(ClientScope.TENANT)
        .exchange(exchange, "digits").build();
  }

  /** Four flags on {@code defence}: OBSERVE → PERTURB → MISINFORM → THROTTLE → BLOCK, score 4. */
  private static void driveToBlock(ExtractionDefence defence, String client) {
    for (int q = 10; q < 14; q++) {
      defence.observe(client, x(q), Prediction.of(P));
    }
    assertThat(defence.level(client)).isEqualTo(RiskLevel.BLOCK);
  }

  @Test
  void aClientBlockedThroughOneEngineIsRefusedByTheOtherInstancesEngine() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    ModelGuard guardA = ExtractionChains.guard(a, "gold", 1024);
    ModelGuard guardB = ExtractionChains.guard(b, "gold", 1024);
    DigitsRequest plain = new DigitsRequest("{\"x\":[1,1,2]}");
    assertThat(guardB.onResponse(plain, guardB.check(plain), 200, ModelOutput.json(ANSWER)).bodyAsString())
        .isEqualTo(ANSWER); // B knows the client, unflagged

    for (int q = 10; q < 14; q++) {
      DigitsRequest flagged = new DigitsRequest("{\"x\":[" + q + ",1,2]}");
      GuardDecision decision = guardA.check(flagged);
      if (decision.isAllowed()) {
        guardA.onResponse(flagged, decision, 200, ModelOutput.json(ANSWER));
      }
    }

    DigitsRequest next = new DigitsRequest("{\"x\":[2,1,2]}");
    assertThat(guardA.check(next).reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(guardB.check(next).reason()).as("refused on the instance that never flagged it")
        .contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(detectorB.seen).containsExactly(1.0);
  }

  @Test
  void aBlockReachesAnInstanceThatNeverSawTheClient() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);

    driveToBlock(a, "mallory");

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.BLOCK);
    assertThat(b.admit("mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(b.admit("alice").isAllowed()).isTrue();
    // Its first query on B starts a state that keeps the shared score.
    b.observe("mallory", x(1), Prediction.of(P));
    assertThat(b.admit("mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
  }

  /**
   * A client throttled on another instance, asking B, which never saw it: B admits one query, as it would a
   * client it throttled itself, and the next after the interval. B kept only the received score,
   * so its first admit found no state, and the state its first query then created counted no
   * admission: a second query passed at once (on every instance that had not seen the client).
   */
  @Test
  void aThrottleReachesAnInstanceThatNeverSawTheClientWithOneQueryAdmitted() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    // Mid-THROTTLE (3 to 3.9), so that it still throttles after the interval.
    exchange.join(r -> {}).publish(new RiskRaise("digits", "mallory", 3.5, clockB.instant()));
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.THROTTLE);

    assertThat(admittedOf(b, "mallory", 5)).isEqualTo(1);
    GuardDecision next = b.admit("mallory");
    assertThat(next.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(next.retryAfter()).contains(Duration.ofSeconds(10));
    clockB.advance(Duration.ofSeconds(10));
    assertThat(admittedOf(b, "mallory", 5)).isEqualTo(1);
  }

  /** How many of {@code attempts} queries {@code defence} admits, each admitted one then observed, as a chain does. */
  private static int admittedOf(ExtractionDefence defence, String client, int attempts) {
    int admitted = 0;
    for (int i = 0; i < attempts; i++) {
      if (defence.admit(client).isAllowed()) {
        admitted++;
        defence.observe(client, x(i), Prediction.of(P));
      }
    }
    return admitted;
  }

  @Test
  void aHalfLifeTooLongForTheDecayIsRefusedByItsSetter() {
    assertThatThrownBy(() -> ExtractionDefence.builder(KEYS, 3).halfLife(Duration.ofDays(200_000)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extraction.halfLife");
    // The longest accepted still decays a received raise.
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = ExtractionDefenceTest.scripted(KEYS, clockB, detectorB)
        .halfLife(Duration.ofNanos(Long.MAX_VALUE)).exchange(exchange, "digits").build();
    exchange.join(r -> {}).publish(new RiskRaise("digits", "mallory", 4, clockB.instant().minus(Duration.ofDays(365))));
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.BLOCK);
  }

  @Test
  void aThrottleIntervalTooLongForTheNanosecondClockIsRefusedAndTheLongestStillThrottles() {
    // 300 years overflowed the next admission's nanoseconds: the throttle then never applied.
    assertThatThrownBy(() -> ExtractionDefence.builder(KEYS, 3).throttleInterval(Duration.ofDays(300 * 365)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extraction.throttleInterval");
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = ExtractionDefenceTest.scripted(KEYS, clockB, detectorB)
        .throttleInterval(ExtractionDefence.Builder.MAX_THROTTLE_INTERVAL).exchange(exchange, "digits").build();
    exchange.join(r -> {}).publish(new RiskRaise("digits", "mallory", 3.5, clockB.instant()));
    assertThat(admittedOf(b, "mallory", 5)).isEqualTo(1);
  }

  @Test
  void aRiseToPerturbMakesTheOtherInstancePerturbAtThatLevel() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);

    a.observe("mallory", x(10), Prediction.of(P));

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.PERTURB);
    double[] fromB = b.perturb("mallory", null, x(5), P);
    assertThat(fromB).isNotEqualTo(P);
    assertThat(fromB).as("the same keys and level: the same keyed noise").containsExactly(a.perturb("mallory", null, x(5), P));
    assertThat(b.admit("mallory").isAllowed()).isTrue();
    assertThat(b.perturb("alice", null, x(5), P)).containsExactly(P);
  }

  @Test
  void aReceivedScoreDecaysFromTheInstantItWasRaised() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    clockB.advance(Duration.ofMinutes(30)); // B's clock half an hour ahead: the raise reached it late

    driveToBlock(a, "mallory"); // score 4 at A's now

    // 4 · 2^(-1/2) ≈ 2.83 at B's now: MISINFORM, not BLOCK.
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    clockB.advance(Duration.ofMinutes(30)); // 2.0
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    clockB.advance(Duration.ofMinutes(30)); // 1.41
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.PERTURB);
  }

  @Test
  void aRaiseFromAClockAheadCountsFromTheReceiversNow() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    clockA.advance(Duration.ofMinutes(30)); // A's clock half an hour ahead of B's

    driveToBlock(a, "mallory");

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.BLOCK);
    clockB.advance(Duration.ofMinutes(30));
    // Held at its score until B's clock reached A's instant, it would still block.
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
  }

  @Test
  void onlyLevelRisesArePublishedAndReceivedRaisesAreNotEchoed() {
    CountingExchange exchange = new CountingExchange(RiskExchange.inProcess());
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);

    for (int q = 0; q < 5; q++) {
      a.observe("mallory", x(q), Prediction.of(P)); // unflagged: nothing to share
    }
    driveToBlock(a, "mallory");
    a.observe("mallory", x(14), Prediction.of(P)); // flagged at BLOCK: no rise
    b.observe("mallory", x(15), Prediction.of(P)); // flagged on B, already blocked by A's raise

    assertThat(exchange.published).containsExactly(4, 0);
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.BLOCK);
  }

  @Test
  void aDefenceWithoutAnExchangeSharesNothing() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence alone = ExtractionDefenceTest.scripted(KEYS, clockA, detectorA).build();
    ExtractionDefence b = defence(clockB, detectorB, exchange);

    driveToBlock(alone, "mallory");

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void raisesOfOtherLabelsAndDecayedOnesChangeNothing() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    RiskExchange.Member hostile = exchange.join(r -> {});
    Instant now = clockB.instant();

    hostile.publish(new RiskRaise("iris", "mallory", 100, now));
    hostile.publish(new RiskRaise("digits", "old", 3.9, now.minus(Duration.ofDays(2))));
    hostile.publish(new RiskRaise("digits", "ancient", 1e300, Instant.MIN));

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(b.level("old")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(b.level("ancient")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(b.residuals()).isZero();
  }

  /**
   * A client refused here for what another instance saw leaves a trace here: one INFO line per
   * received raise that raises its level (paced: at most one a minute), none for one that does not.
   */
  @Test
  void aReceivedRaiseIsLoggedWhenItRaisesTheLevelHereAndOnlyThen() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    RiskExchange.Member other = exchange.join(r -> {});
    b.observe("p:acme:mallory", x(10), Prediction.of(P)); // PERTURB here, score 1

    try (LogCapture log = LogCapture.of(ExtractionDefence.class, Level.DEBUG)) {
      other.publish(new RiskRaise("digits", "p:acme:mallory", 1.5, clockB.instant())); // score up, still PERTURB
      other.publish(new RiskRaise("digits", "p:acme:eve\nforged", 2.5, clockB.instant())); // never seen: MISINFORM
      other.publish(new RiskRaise("digits", "p:acme:eve\nforged", 2.2, clockB.instant())); // below what is kept
      assertThat(b.level("p:acme:mallory")).isEqualTo(RiskLevel.PERTURB);
      assertThat(b.level("p:acme:eve\nforged")).isEqualTo(RiskLevel.MISINFORM);
      assertThat(log.messages()).containsExactly("ExtractionDefence 'digits': client p:acme:eve?forged raised to "
          + "MISINFORM by a level another instance shared (logged at this level at most once a minute per cause; "
          + "0 more since the last, at DEBUG)");
      assertThat(log.events()).singleElement().satisfies(e -> assertThat(e.getLevel()).isEqualTo(Level.INFO));

      clockB.advance(Duration.ofSeconds(61)); // past the pace's minute
      other.publish(new RiskRaise("digits", "p:acme:mallory", 1.2, clockB.instant())); // below its score
      other.publish(new RiskRaise("digits", "p:acme:mallory", 3.5, clockB.instant())); // THROTTLE

      assertThat(b.level("p:acme:mallory")).isEqualTo(RiskLevel.THROTTLE);
      assertThat(log.messages()).hasSize(2).last().asString()
          .startsWith("ExtractionDefence 'digits': client p:acme:mallory raised to THROTTLE by a level another instance shared");
    }
  }

  @Test
  void anAbsurdScoreIsTakenAsTwiceTheHighestThreshold() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    RiskExchange.Member hostile = exchange.join(r -> {});

    hostile.publish(new RiskRaise("digits", "mallory", Double.MAX_VALUE, Instant.MAX));

    assertThat(b.level("mallory")).isEqualTo(RiskLevel.BLOCK); // 7.8, at B's now
    clockB.advance(Duration.ofMinutes(70)); // 7.8 · 2^(-70/60) ≈ 3.47
    assertThat(b.level("mallory")).isEqualTo(RiskLevel.THROTTLE);
  }

  @Test
  void raisesOutOfBoundsAreRefusedBeforeTheyReachADefence() {
    Instant now = clockB.instant();
    String longKey = "p:acme:" + "x".repeat(RiskRaise.MAX_CLIENT_LENGTH);
    assertThatThrownBy(() -> new RiskRaise("digits", "mallory", Double.NaN, now)).hasMessageContaining("score");
    assertThatThrownBy(() -> new RiskRaise("digits", "mallory", Double.POSITIVE_INFINITY, now)).hasMessageContaining("score");
    assertThatThrownBy(() -> new RiskRaise("digits", "mallory", -1, now)).hasMessageContaining("score");
    assertThatThrownBy(() -> new RiskRaise("digits", longKey, 4, now)).hasMessageContaining("client");
    assertThatThrownBy(() -> new RiskRaise("", "mallory", 4, now)).hasMessageContaining("label");
    assertThatThrownBy(() -> new RiskRaise("digits\n", "mallory", 4, now)).hasMessageContaining("label");
    assertThatThrownBy(() -> new RiskRaise("digits", "mallory", 4, null)).hasMessageContaining("at");
  }

  @Test
  void aFloodOfRaisesForFreshClientsKeepsWithinTheResidualsShare() {
    RiskExchange exchange = RiskExchange.inProcess();
    long limit = 1024 * 1024;
    ExtractionDefence b = ExtractionDefenceTest.scripted(KEYS, clockB, detectorB).maxTotalBytes(limit)
        .exchange(exchange, "digits").build();
    RiskExchange.Member hostile = exchange.join(r -> {});
    Instant now = clockB.instant();

    for (int i = 0; i < 100_000; i++) {
      hostile.publish(new RiskRaise("digits", "a:198.51." + i, 7, now));
    }

    assertThat(b.residualBytes()).isPositive().isLessThanOrEqualTo(limit / 16);
  }

  @Test
  void aFailingExchangeNeverFailsTheQuery() {
    RiskExchange failing = receiver -> new RiskExchange.Member() {
      @Override
      public void publish(RiskRaise raise) {
        throw new IllegalStateException("down");
      }

      @Override
      public void leave() {}
    };
    ExtractionDefence a = defence(clockA, detectorA, failing);

    driveToBlock(a, "mallory");

    assertThat(a.admit("mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
  }

  @Test
  void aClientKeyTooLongToShareStaysLocal() {
    CountingExchange exchange = new CountingExchange(RiskExchange.inProcess());
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence b = defence(clockB, detectorB, exchange);
    String longKey = "p:acme:" + "x".repeat(RiskRaise.MAX_CLIENT_LENGTH);

    driveToBlock(a, longKey);

    assertThat(exchange.published).containsExactly(0, 0);
    assertThat(b.level(longKey)).isEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void aMemberThatLeftReceivesNoMore() {
    RiskExchange exchange = RiskExchange.inProcess();
    AtomicInteger received = new AtomicInteger();
    RiskExchange.Member sender = exchange.join(r -> {});
    RiskExchange.Member receiver = exchange.join(r -> received.incrementAndGet());
    RiskRaise raise = new RiskRaise("digits", "mallory", 4, clockA.instant());

    sender.publish(raise);
    receiver.publish(raise); // not to itself
    receiver.leave();
    sender.publish(raise);

    assertThat(received).hasValue(1);
  }

  /**
   * A defence replaced (a configuration reloaded) and closed leaves its exchange: it takes no more
   * raises (it kept every one, and its clients' memory, for the exchange's life) and shares none.
   */
  @Test
  void aClosedDefenceLeavesItsExchange() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence a = defence(clockA, detectorA, exchange);
    ExtractionDefence old = defence(clockB, detectorB, exchange);

    old.close();
    old.close(); // idempotent
    driveToBlock(a, "mallory");

    assertThat(old.level("mallory")).as("a raise after close").isEqualTo(RiskLevel.OBSERVE);
    assertThat(old.residuals()).isZero();
    // Still judging what it is given, alone: queries in flight on the old configuration.
    driveToBlock(old, "eve");
    assertThat(old.admit("eve").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(a.level("eve")).as("nothing shared once closed").isEqualTo(RiskLevel.OBSERVE);
  }

  @Test
  void closingADefenceWithoutAnExchangeChangesNothing() {
    ExtractionDefence alone = ExtractionDefenceTest.scripted(KEYS, clockA, detectorA).build();
    alone.close();
    driveToBlock(alone, "mallory");
    assertThat(alone.raisesOfAnotherScope()).isZero();
  }

  /**
   * A received raise that lifts a client's level here reaches the listener as an EXCHANGE event
   * (from and to levels, the decayed score, no detector or query of this instance); one that lifts
   * nothing does not, and detections keep their DETECTOR events.
   */
  @Test
  void aReceivedRaiseThatLiftsTheLevelIsPublishedToTheListener() {
    RiskExchange exchange = RiskExchange.inProcess();
    List<ExtractionEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    ExtractionDefence b = ExtractionDefenceTest.scripted(KEYS, clockB, detectorB).listener(events::add)
        .exchange(exchange, "digits").build();
    RiskExchange.Member other = exchange.join(r -> {});

    other.publish(new RiskRaise("digits", "mallory", 3, clockB.instant().minus(Duration.ofHours(1)))); // 1.5 now
    other.publish(new RiskRaise("digits", "mallory", 1.2, clockB.instant())); // below: nothing
    other.publish(new RiskRaise("iris", "mallory", 3.5, clockB.instant())); // another model's: nothing
    b.observe("mallory", x(10), Prediction.of(P)); // flagged here: 2.5, MISINFORM
    other.publish(new RiskRaise("digits", "mallory", 3.5, clockB.instant())); // THROTTLE

    assertThat(events).extracting(ExtractionEvent::source, ExtractionEvent::from, ExtractionEvent::to)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(ExtractionEvent.Source.EXCHANGE, RiskLevel.OBSERVE, RiskLevel.PERTURB),
            org.assertj.core.groups.Tuple.tuple(ExtractionEvent.Source.DETECTOR, RiskLevel.PERTURB, RiskLevel.MISINFORM),
            org.assertj.core.groups.Tuple.tuple(ExtractionEvent.Source.EXCHANGE, RiskLevel.MISINFORM, RiskLevel.THROTTLE));
    ExtractionEvent first = events.get(0);
    assertThat(first.client()).isEqualTo("mallory");
    assertThat(first.detector()).isEqualTo(ExtractionEvent.EXCHANGE_DETECTOR);
    assertThat(first.query()).isZero();
    assertThat(first.score()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(first.at()).isEqualTo(clockB.instant());
    assertThat(events.get(1).detector()).isEqualTo("scripted");
    assertThat(events.get(1).query()).isEqualTo(1);
  }

  /**
   * Instances whose defences key clients apart (a tenant's key against a principal's) share no
   * level: a raise of the other scope is dropped (it would only fill the residuals), counted and
   * logged once a minute, where it used to be taken silently and never match. A raise that does
   * not say its scope (an older instance, a hand-written one) is still taken.
   */
  @Test
  void aRaiseFromADefenceOfAnotherClientScopeIsDroppedCountedAndLogged() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence tenantA = tenantDefence(clockA, detectorA, exchange);
    ExtractionDefence principalB = defence(clockB, detectorB, exchange);
    ExtractionDefence tenantC = tenantDefence(clockB, flagging(), exchange);
    RiskExchange.Member other = exchange.join(r -> {});

    try (LogCapture log = LogCapture.of(ExtractionDefence.class, Level.DEBUG)) {
      driveToBlock(tenantA, "t:acme"); // four raises

      assertThat(tenantC.level("t:acme")).as("the same scope").isEqualTo(RiskLevel.BLOCK);
      assertThat(principalB.level("t:acme")).isEqualTo(RiskLevel.OBSERVE);
      assertThat(principalB.residuals()).isZero();
      assertThat(principalB.raisesOfAnotherScope()).isEqualTo(4);
      assertThat(tenantC.raisesOfAnotherScope()).isZero();
      assertThat(log.messagesAt(Level.WARN)).singleElement().asString().startsWith("ExtractionDefence 'digits': "
          + "dropped a raise from an instance whose defence of this label has clientScope TENANT, where this one's "
          + "is PRINCIPAL");
    }

    other.publish(new RiskRaise("iris", "t:acme", 4, clockB.instant(), ClientScope.TENANT)); // another model's
    other.publish(new RiskRaise("digits", "a:198.51.100.7", 4, clockB.instant())); // no scope said
    assertThat(principalB.raisesOfAnotherScope()).isEqualTo(4);
    assertThat(principalB.level("a:198.51.100.7")).isEqualTo(RiskLevel.BLOCK);
    assertThat(tenantC.level("a:198.51.100.7")).isEqualTo(RiskLevel.BLOCK);
  }

  /**
   * An unauthenticated client is keyed by its address in either scope, so a raise of its key from a
   * defence of another scope matches it here: it is taken, not dropped as another scope's. Dropping
   * it let an anonymous client blocked on one instance query the others freely while the instances'
   * scopes differed (a scope change rolling out), where before they shared its level.
   */
  @Test
  void anAddressKeyedRaiseIsTakenWhateverThePublishersScope() {
    RiskExchange exchange = RiskExchange.inProcess();
    ExtractionDefence tenantA = tenantDefence(clockA, detectorA, exchange);
    ExtractionDefence principalB = defence(clockB, detectorB, exchange);
    String anonymous = ExtractionDefence.clientOf(new DigitsRequest("{}"), java.util.Optional.empty(),
        ClientScope.TENANT);
    assertThat(anonymous).isEqualTo(ExtractionDefence.clientOf(new DigitsRequest("{}"), java.util.Optional.empty(),
        ClientScope.PRINCIPAL)).startsWith("a:");

    driveToBlock(tenantA, anonymous);

    assertThat(principalB.level(anonymous)).isEqualTo(RiskLevel.BLOCK);
    assertThat(principalB.admit(anonymous).reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(principalB.raisesOfAnotherScope()).isZero();
  }

  @Test
  void theLabelIsValidatedAtConfiguration() {
    RiskExchange exchange = RiskExchange.inProcess();
    assertThatThrownBy(() -> ExtractionDefence.builder(KEYS, 3).exchange(exchange, ""))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extraction.exchange label");
    assertThatThrownBy(() -> ExtractionDefence.builder(KEYS, 3).exchange(exchange, "x".repeat(129)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extraction.exchange label");
  }

  /** An exchange counting each member's publishes, in the order they joined. */
  private static final class CountingExchange implements RiskExchange {
    private final RiskExchange delegate;
    final List<Integer> published = new java.util.concurrent.CopyOnWriteArrayList<>();

    CountingExchange(RiskExchange delegate) {
      this.delegate = delegate;
    }

    @Override
    public Member join(Consumer<RiskRaise> receiver) {
      Member member = delegate.join(receiver);
      int index = published.size();
      published.add(0);
      return new Member() {
        @Override
        public void publish(RiskRaise raise) {
          published.set(index, published.get(index) + 1);
          member.publish(raise);
        }

        @Override
        public void leave() {
          member.leave();
        }
      };
    }
  }
}
