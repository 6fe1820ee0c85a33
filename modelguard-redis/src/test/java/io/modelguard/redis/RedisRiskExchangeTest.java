package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.modelguard.ReasonCode;
import io.modelguard.extraction.ClientScope;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.extraction.RiskRaise;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two instances' extraction defences sharing raised levels through a real Redis. */
class RedisRiskExchangeTest {
  private static final Prediction P = Prediction.of(new double[] {0.1, 0.7, 0.2});
  private static RedisServer server;
  private static RedisClient rawClient;
  private static StatefulRedisConnection<String, String> rawConnection;
  private static RedisCommands<String, String> raw;

  private final FakeClock clock = FakeClock.standard();
  private String channel;
  private RedisRiskExchange exchangeA;
  private RedisRiskExchange exchangeB;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
    rawClient = RedisClient.create(RedisURI.create(server.url()));
    rawConnection = rawClient.connect();
    raw = rawConnection.sync();
  }

  @AfterAll
  static void stopRedis() {
    rawConnection.close();
    rawClient.shutdown();
    server.close();
  }

  @BeforeEach
  void connect() {
    channel = "mg:test-risk:" + UUID.randomUUID(); // each test its own: none reads another's messages
    exchangeA = RedisRiskExchange.builder(RedisURI.create(server.url())).channel(channel).build();
    exchangeB = RedisRiskExchange.builder(RedisURI.create(server.url())).channel(channel).build();
    assertThat(exchangeA.awaitReady(Duration.ofSeconds(10))).isTrue();
    assertThat(exchangeB.awaitReady(Duration.ofSeconds(10))).isTrue();
  }

  @AfterEach
  void close() {
    exchangeA.close();
    exchangeB.close();
  }

  /** See {@link RiskExchangeDefences#defence}. */
  private ExtractionDefence defence(RedisRiskExchange exchange) {
    return RiskExchangeDefences.defence(exchange, clock);
  }

  private static void driveToBlock(ExtractionDefence defence, String client) {
    for (int q = 10; q < 14; q++) {
      defence.observe(client, new double[] {q, 1, 2}, P);
    }
    assertThat(defence.level(client)).isEqualTo(RiskLevel.BLOCK);
  }

  @Test
  void aClientBlockedOnOneInstanceIsBlockedOnTheOther() {
    ExtractionDefence a = defence(exchangeA);
    ExtractionDefence b = defence(exchangeB);
    b.observe("p:acme:mallory", new double[] {1, 1, 2}, P); // B knows the client, unflagged

    driveToBlock(a, "p:acme:mallory");

    Poll.until("B blocks the client A blocked", () -> b.level("p:acme:mallory") == RiskLevel.BLOCK);
    assertThat(b.admit("p:acme:mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    assertThat(b.admit("p:acme:alice").isAllowed()).isTrue();
    Poll.until("Redis took A's four raises, one per level risen", () -> exchangeA.publishedRaises() == 4);
    assertThat(exchangeB.publishedRaises()).as("received raises are not published again").isZero();
  }

  @Test
  void anInstanceIgnoresItsOwnMessages() {
    ExtractionDefence a = defence(exchangeA);
    ExtractionDefence b = defence(exchangeB);

    a.observe("p:acme:mallory", new double[] {10, 1, 2}, P); // PERTURB, published by A first
    Poll.until("A's raise reached B", () -> exchangeB.receivedRaises() == 1);
    b.observe("p:acme:eve", new double[] {10, 1, 2}, P); // then B's
    Poll.until("B's raise reached A", () -> a.level("p:acme:eve") == RiskLevel.PERTURB);

    // A read its own message before B's, and took only B's.
    assertThat(exchangeA.receivedRaises()).isEqualTo(1);
    assertThat(exchangeA.ignoredMessages()).isZero();
  }

  @Test
  void junkOnTheChannelIsIgnoredAndTheExchangeKeepsWorking() {
    ExtractionDefence a = defence(exchangeA);
    ExtractionDefence b = defence(exchangeB);
    long at = clock.millis();
    String[] junk = {
        "not json",
        "",
        "[1,2,3]",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":60", // cut short
        "{\"v\":2,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":60,\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":-60,\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":\"60\",\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":60,\"score\":61,\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":1e999,\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":60}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"" + "x".repeat(RiskRaise.MAX_CLIENT_LENGTH + 1)
            + "\",\"score\":60,\"at\":" + at + "}",
        "{\"v\":1,\"from\":\"x\",\"label\":\"digits\",\"client\":\"p:acme:junk\",\"score\":60,\"at\":" + at + "}"
            + " ".repeat(RedisRiskExchange.MAX_PAYLOAD_BYTES), // too long, however valid
    };
    for (String message : junk) {
      raw.publish(channel, message);
    }
    // A hand-written raise of another model, and one of this model: the format is the documented one.
    raw.publish(channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"iris\",\"client\":\"p:acme:junk\",\"score\":60,\"at\":" + at + "}");
    raw.publish(channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\",\"client\":\"p:acme:eve\",\"score\":2.5,"
        + "\"at\":" + at + ",\"note\":{\"later\":[1,2]}}");

    driveToBlock(a, "p:acme:mallory");

    Poll.until("A's raise reached B after the junk", () -> b.level("p:acme:mallory") == RiskLevel.BLOCK);
    assertThat(exchangeB.ignoredMessages()).isEqualTo(junk.length);
    assertThat(b.level("p:acme:junk")).isEqualTo(RiskLevel.OBSERVE);
    assertThat(b.level("p:acme:eve")).isEqualTo(RiskLevel.MISINFORM);
  }

  @Test
  void aRedisThatIsDownDropsRaisesWithoutFailingTheQuery() {
    try (RedisRiskExchange down = RedisRiskExchange.builder(RedisURI.create("redis://127.0.0.1:" + RedisServer.freePort()))
        .channel(channel).build()) {
      ExtractionDefence a = defence(down);

      driveToBlock(a, "p:acme:mallory");

      assertThat(down.droppedRaises()).isEqualTo(4);
      assertThat(a.admit("p:acme:mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
    }
  }

  /** The documented recovery: Lettuce reconnects both connections and subscribes again by itself. */
  @Test
  void afterARedisRestartRaisesAreSharedAgain() {
    try (RedisServer own = RedisServer.start();
        RedisRiskExchange a = RedisRiskExchange.builder(RedisURI.create(own.url())).channel(channel).build();
        RedisRiskExchange b = RedisRiskExchange.builder(RedisURI.create(own.url())).channel(channel).build()) {
      assertThat(a.awaitReady(Duration.ofSeconds(10))).isTrue();
      assertThat(b.awaitReady(Duration.ofSeconds(10))).isTrue();
      ExtractionDefence defenceA = defence(a);
      ExtractionDefence defenceB = defence(b);

      own.kill();
      own.restart();

      awaitRaisesFlow(defenceA, defenceB, "after the restart");
      assertThat(b.ignoredMessages()).isZero();
    }
  }

  /**
   * A message longer than Redis's output buffer limit for subscribers gets the subscriber
   * disconnected (Lettuce reads a message whole before its length can be checked, so that limit is
   * what bounds it); it reconnects, subscribes again, and takes the raises published after.
   */
  @Test
  void aMessagePastRedisOutputLimitDisconnectsTheSubscriberWhichComesBack() {
    try (RedisServer own = RedisServer.start(List.of("--client-output-buffer-limit", "pubsub 256kb 256kb 0"));
        RedisRiskExchange a = RedisRiskExchange.builder(RedisURI.create(own.url())).channel(channel).build();
        RedisRiskExchange b = RedisRiskExchange.builder(RedisURI.create(own.url())).channel(channel).build()) {
      assertThat(a.awaitReady(Duration.ofSeconds(10))).isTrue();
      assertThat(b.awaitReady(Duration.ofSeconds(10))).isTrue();
      ExtractionDefence defenceA = defence(a);
      ExtractionDefence defenceB = defence(b);
      RedisClient ownClient = RedisClient.create(RedisURI.create(own.url()));
      try (StatefulRedisConnection<String, String> c = ownClient.connect()) {
        c.sync().publish(channel, "x".repeat(1024 * 1024));
      } finally {
        ownClient.shutdown();
      }

      awaitRaisesFlow(defenceA, defenceB, "after the long message");
      // Read, it would have been ignored as too long: Redis disconnected B instead.
      assertThat(b.ignoredMessages()).isZero();
    }
  }

  /**
   * Waits until a rise on {@code from} reaches {@code to}: each try is a new client's rise,
   * published until {@code to} has subscribed again and takes one.
   */
  private static void awaitRaisesFlow(ExtractionDefence from, ExtractionDefence to, String when) {
    int[] tries = {0};
    Poll.until("a raise published " + when + " reaches B", () -> {
      String client = "p:acme:after-" + tries[0]++;
      from.observe(client, new double[] {10, 1, 2}, P);
      return to.level(client) == RiskLevel.PERTURB;
    });
  }

  /**
   * A defence replaced and closed leaves the exchange: the raises its exchange still receives reach
   * it no more.
   */
  @Test
  void aClosedDefenceReceivesNoMoreRaises() {
    ExtractionDefence a = defence(exchangeA);
    ExtractionDefence old = defence(exchangeB);
    ExtractionDefence current = defence(exchangeB);

    old.close();
    driveToBlock(a, "p:acme:mallory");

    // The count grows before the raise is handed on: wait for the last one to reach B's member.
    Poll.until("B's current defence took A's four raises", () -> exchangeB.receivedRaises() == 4
        && current.level("p:acme:mallory") == RiskLevel.BLOCK);
    assertThat(old.level("p:acme:mallory")).isEqualTo(RiskLevel.OBSERVE);
  }

  /**
   * A raise says its publisher's client scope on the wire; a defence of another scope drops and
   * counts it instead of keeping a key it can never match. A raise without one, as written before
   * scopes were shared, is still taken; one naming no scope is not a message.
   */
  @Test
  void aRaiseFromAnInstanceOfAnotherClientScopeIsDroppedAndCounted() {
    ExtractionDefence tenantA = RiskExchangeDefences.defence(exchangeA, clock, ClientScope.TENANT);
    ExtractionDefence principalB = defence(exchangeB);

    driveToBlock(tenantA, "t:acme");
    Poll.until("B dropped A's four raises", () -> principalB.raisesOfAnotherScope() == 4);
    assertThat(exchangeB.receivedRaises()).isEqualTo(4);
    assertThat(principalB.level("t:acme")).isEqualTo(RiskLevel.OBSERVE);

    long at = clock.millis();
    raw.publish(channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\",\"client\":\"p:acme:eve\",\"score\":2.5,"
        + "\"at\":" + at + ",\"scope\":\"team\"}"); // no such scope: not a message
    raw.publish(channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\",\"client\":\"p:acme:eve\",\"score\":2.5,"
        + "\"at\":" + at + ",\"scope\":\"tenant\"}");
    raw.publish(channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\",\"client\":\"p:acme:eve\",\"score\":2.5,"
        + "\"at\":" + at + "}"); // as written before scopes
    Poll.until("B took the raise without a scope", () -> principalB.level("p:acme:eve") == RiskLevel.MISINFORM);
    assertThat(exchangeB.ignoredMessages()).isEqualTo(1);
    assertThat(principalB.raisesOfAnotherScope()).isEqualTo(5);
  }

  @Test
  void aRaiseWithItsScopeReadsBackAsWritten() {
    RiskRaise raise = new RiskRaise("digits", "t:acme", 2.5, clock.instant(), ClientScope.TENANT);
    byte[] payload = RiskRaiseCodec.encode(exchangeA.instance(), raise);

    assertThat(new String(payload, java.nio.charset.StandardCharsets.UTF_8)).endsWith(",\"scope\":\"tenant\"}");
    assertThat(RiskRaiseCodec.decode(payload)).hasValue(new RiskRaiseCodec.Message(exchangeA.instance(), raise));
  }

  /**
   * One set of client resources the caller owns serves a quota store and an exchange, and neither
   * shuts it down when it closes: a client built on it later still shares raises.
   */
  @Test
  void clientResourcesTheCallerGivesServeAStoreAndAnExchangeAndOutliveBoth() {
    ClientResources shared = ClientResources.create();
    try {
      RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create(server.url())).clientResources(shared).build();
      RedisRiskExchange first = RedisRiskExchange.builder(RedisURI.create(server.url())).channel(channel)
          .clientResources(shared).build();
      assertThat(store.awaitReady(Duration.ofSeconds(10))).isTrue();
      assertThat(first.awaitReady(Duration.ofSeconds(10))).isTrue();

      store.close();
      first.close();

      assertThat(shared.eventExecutorGroup().isShuttingDown()).isFalse();
      try (RedisRiskExchange again = RedisRiskExchange.builder(RedisURI.create(server.url())).channel(channel)
          .clientResources(shared).build()) {
        assertThat(again.awaitReady(Duration.ofSeconds(10))).isTrue();
        awaitRaisesFlow(defence(again), defence(exchangeB), "on the shared resources");
      }
    } finally {
      shared.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  @Test
  void theLongestRaiseFitsAMessageAndReadsBackAsWritten() {
    // Controls are written as six-byte escapes: the most bytes a character can take.
    RiskRaise longest = new RiskRaise("d".repeat(RiskRaise.MAX_LABEL_LENGTH), "\u0001".repeat(RiskRaise.MAX_CLIENT_LENGTH),
        Double.MAX_VALUE, clock.instant());
    byte[] payload = RiskRaiseCodec.encode(exchangeA.instance(), longest);

    assertThat(payload.length).isLessThanOrEqualTo(RedisRiskExchange.MAX_PAYLOAD_BYTES);
    assertThat(RiskRaiseCodec.decode(payload)).hasValue(new RiskRaiseCodec.Message(exchangeA.instance(), longest));
  }
}
