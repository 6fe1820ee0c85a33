package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.modelguard.test.LogCapture;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watch's reading of {@code +switch-master} messages, and its confirming them with the
 * Sentinels before it follows one. A Sentinel publishes on that channel only itself (it refuses
 * {@code PUBLISH} but on its hello channel), so a plain Redis stands in for one here, as the first
 * of the watched "Sentinels": the watch subscribes to it as to a Sentinel, and the test publishes
 * the messages. Asked which node is the master, it answers with an error (it has no {@code
 * SENTINEL} command), so it names none. The two others are real Sentinels monitoring a real Redis
 * under the master's name: they make the majority (two of three) that confirms an announcement.
 *
 * <p>A Sentinel that does not answer is the plain Redis paused ({@code CLIENT PAUSE}, in the
 * transaction that publishes the announcement, so that no question reaches it first) for longer
 * than any wait of this test, and the watch waits a minute for an answer: a question that waited
 * for every Sentinel's answer would not be decided within the test.
 */
class SentinelWatchTest {
  private static final String MASTER_NAME = "mymaster";
  /** Longer than any wait of this test (20 s), as is a pause of a Sentinel that does not answer. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(1);

  private final RedisServer fakeSentinel = RedisServer.start();
  private final RedisServer master = RedisServer.start();
  private final List<RedisServer> sentinels = List.of(
      RedisServer.startSentinel(MASTER_NAME, master, 2, Map.of()),
      RedisServer.startSentinel(MASTER_NAME, master, 2, Map.of()));
  private final String masterAddress = "127.0.0.1:" + master.port();
  private final RedisClient client = RedisClient.create();
  private final BlockingQueue<String> followed = new LinkedBlockingQueue<>();
  private final SentinelWatch watch = new SentinelWatch(client,
      RedisURI.create("redis-sentinel://127.0.0.1:" + fakeSentinel.port() + ",127.0.0.1:" + sentinels.get(0).port()
          + ",127.0.0.1:" + sentinels.get(1).port() + "#" + MASTER_NAME),
      ANSWER_TIMEOUT, followed::add);

  @AfterEach
  void tearDown() {
    watch.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    sentinels.forEach(RedisServer::close);
    master.close();
    fakeSentinel.close();
  }

  @Test
  void aMessageWhoseAddressesAreNotAnAddressAndPortIsIgnored() throws Exception {
    try (LogCapture logged = LogCapture.of(SentinelWatch.class, Level.WARN)) {
      watch.subscribe().get(10, TimeUnit.SECONDS);
      // Five words, the master's name: split on spaces only, a line break in an address would reach
      // the INFO line as a forged log line, and a port that is no number is no announcement.
      announce("mymaster 127.0.0.1 7000 127.0.0.1\nforged-line 7001");
      announce("mymaster 127.0.0.1 7000 127.0.0.1 port");
      announce("mymaster 127.0.0.1 7000 127.0.0.1 70000");
      announce("othermaster 127.0.0.1 7000 127.0.0.1 7002");
      announce("mymaster 127.0.0.1 7000 " + masterAddress.replace(':', ' '));
      assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo(masterAddress);
      assertThat(followed).isEmpty();
      // Messages on one connection arrive in order: the malformed ones were read before.
      assertThat(logged.messagesAt(Level.WARN)).hasSize(3)
          .allSatisfy(m -> assertThat(m).contains("malformed").doesNotContain("forged-line"));
    }
  }

  @Test
  void anAnnouncementIsFollowedToTheMasterAMajorityOfTheSentinelsNameNotToTheAddressItNames() throws Exception {
    watch.subscribe().get(10, TimeUnit.SECONDS);
    // Delivered late, or forged by whatever answers as a Sentinel: the Sentinels name another node.
    announce("mymaster 127.0.0.1 7000 127.0.0.1 7001");
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo(masterAddress);
    assertThat(followed).isEmpty();
  }

  @Test
  void anAnnouncementOfANewMasterIsNotFollowedWhileAMajorityOfTheSentinelsNameTheOldOne() throws Exception {
    try (LogCapture logged = LogCapture.of(SentinelWatch.class, Level.DEBUG)) {
      watch.subscribe().get(10, TimeUnit.SECONDS);
      // Stale (a failover undone since), or one the majority has not learnt of yet.
      announce("mymaster " + masterAddress.replace(':', ' ') + " 127.0.0.1 7001");
      Poll.until("the Sentinels were asked, or the announcement followed",
          () -> !logged.messagesAt(Level.DEBUG).isEmpty() || !followed.isEmpty());
      assertThat(followed).isEmpty();
      assertThat(logged.messagesAt(Level.DEBUG)).singleElement().asString()
          .contains("not following").contains("still name the master it announced as left, " + masterAddress);
    }
  }

  @Test
  void anAnnouncementIsNotFollowedWhenNoMajorityOfTheSentinelsAnswers() throws Exception {
    try (LogCapture logged = LogCapture.of(SentinelWatch.class, Level.DEBUG)) {
      watch.subscribe().get(10, TimeUnit.SECONDS);
      sentinels.get(1).kill(); // one of three names the master: no majority
      announce("mymaster 127.0.0.1 7000 " + masterAddress.replace(':', ' '));
      Poll.until("the Sentinels were asked, or the announcement followed",
          () -> !logged.messagesAt(Level.DEBUG).isEmpty() || !followed.isEmpty());
      assertThat(followed).isEmpty();
      assertThat(logged.messagesAt(Level.DEBUG)).singleElement().asString()
          .contains("not following").contains("no majority of the 3 Sentinels");
    }
  }

  @Test
  void anAnnouncementIsFollowedOnceAMajorityNamesTheMasterWithoutWaitingForASentinelThatDoesNotAnswer()
      throws Exception {
    watch.subscribe().get(10, TimeUnit.SECONDS);
    // The first of the three Sentinels stops answering (as one on the dead master's machine would);
    // the two others name the master: two of three, a majority whatever the first would answer.
    announceAndStopAnswering("mymaster 127.0.0.1 7000 " + masterAddress.replace(':', ' '));
    assertThat(followed.poll(20, TimeUnit.SECONDS)).isEqualTo(masterAddress);
    assertThat(followed).isEmpty();
  }

  @Test
  void noMajorityIsConcludedOnceNoMasterCanReachOneAndTheNextAnnouncementIsAskedAbout() throws Exception {
    // Of three Sentinels, one does not answer, one is down and one names no master: even the one
    // that does not answer could not make a majority, so the question ends without it, and the
    // next announcement is asked about rather than queued behind it.
    try (RedisServer namesNothing = RedisServer.start();
        LogCapture logged = LogCapture.of(SentinelWatch.class, Level.DEBUG)) {
      RedisServer down = sentinels.get(0);
      SentinelWatch threeWatch = new SentinelWatch(client, RedisURI.create("redis-sentinel://127.0.0.1:"
          + fakeSentinel.port() + ",127.0.0.1:" + namesNothing.port() + ",127.0.0.1:" + down.port() + "#"
          + MASTER_NAME), ANSWER_TIMEOUT, followed::add);
      try {
        threeWatch.subscribe().get(10, TimeUnit.SECONDS);
        down.kill();
        String announcement = "mymaster 127.0.0.1 7000 " + masterAddress.replace(':', ' ');
        announceAndStopAnswering(announcement);
        Poll.until("no majority concluded", () -> logged.messagesAt(Level.DEBUG).size() == 1);
        assertThat(namesNothing.cli("publish", SentinelWatch.SWITCH_MASTER, announcement).trim()).isEqualTo("1");
        Poll.until("no majority concluded again", () -> logged.messagesAt(Level.DEBUG).size() == 2);
        assertThat(logged.messagesAt(Level.DEBUG))
            .allSatisfy(m -> assertThat(m).contains("not following").contains("no majority of the 3 Sentinels"));
        assertThat(followed).isEmpty();
      } finally {
        threeWatch.close();
      }
    }
  }

  @Test
  void aSwitchBackToTheMasterLastFollowedIsFollowedWhenTheSwitchAwayWasMissed() throws Exception {
    watch.subscribe().get(10, TimeUnit.SECONDS);
    String aToB = "mymaster 127.0.0.1 7000 " + masterAddress.replace(':', ' ');
    announce(aToB); // A -> B, followed
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo(masterAddress);
    announce(aToB); // another Sentinel's word for it: confirmed, but followed already

    // The subscription drops (a Sentinel restarted, the network): B -> A is announced meanwhile
    // and missed; the store reaches A when Sentinel demotes B. Lettuce subscribes again.
    String before = subscriber();
    assertThat(fakeSentinel.cli("client", "kill", "type", "pubsub").trim()).isEqualTo("1");
    Poll.until("subscribed again", () -> {
      String now = subscriber();
      return !now.isEmpty() && !now.equals(before);
    });
    // A -> B again: the store may be on A now, so this is a switch to follow, not a repetition.
    announce(aToB);
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo(masterAddress);
    assertThat(followed).isEmpty();
  }

  /** The id of the client subscribed to the channel, or empty if none is. */
  private String subscriber() {
    for (String line : fakeSentinel.cli("client", "list", "type", "pubsub").split("\r?\n")) {
      if (line.contains(" sub=1 ")) {
        return line.substring(0, line.indexOf(' '));
      }
    }
    return "";
  }

  private void announce(String message) {
    assertThat(fakeSentinel.cli("publish", SentinelWatch.SWITCH_MASTER, message).trim()).isEqualTo("1");
  }

  /**
   * Publishes {@code message} on the first "Sentinel" and pauses it, in one transaction, for longer
   * than the test waits: it answers no command (a question of the watch included) from then on.
   */
  private void announceAndStopAnswering(String message) {
    try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(fakeSentinel.url()))) {
      RedisCommands<String, String> commands = c.sync();
      commands.multi();
      commands.publish(SentinelWatch.SWITCH_MASTER, message);
      commands.clientPause(ANSWER_TIMEOUT.toMillis());
      TransactionResult result = commands.exec();
      assertThat((Long) result.get(0)).as("one subscriber: the watch").isEqualTo(1L);
    }
  }
}
