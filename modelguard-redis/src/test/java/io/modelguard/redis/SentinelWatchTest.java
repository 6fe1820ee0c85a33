package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watch's reading of {@code +switch-master} messages. A Sentinel publishes on that channel only
 * itself (it refuses {@code PUBLISH} but on its hello channel), so a plain Redis stands in for one
 * here: the watch subscribes to it as to a Sentinel, and the test publishes the messages.
 */
class SentinelWatchTest {
  private final RedisServer fakeSentinel = RedisServer.start();
  private final RedisClient client = RedisClient.create();
  private final BlockingQueue<String> followed = new LinkedBlockingQueue<>();
  private final SentinelWatch watch = new SentinelWatch(client,
      RedisURI.create("redis-sentinel://127.0.0.1:" + fakeSentinel.port() + "#mymaster"),
      (from, to) -> followed.add(from + " -> " + to));

  @AfterEach
  void tearDown() {
    watch.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    fakeSentinel.close();
  }

  @Test
  void aMessageWhoseAddressesAreNotAnAddressAndPortIsIgnored() throws Exception {
    watch.subscribe().get(10, TimeUnit.SECONDS);
    // Five words, the master's name: split on spaces only, a line break in an address would reach
    // the INFO line as a forged log line, and a port that is no number is no announcement.
    announce("mymaster 127.0.0.1 7000 127.0.0.1\nforged-line 7001");
    announce("mymaster 127.0.0.1 7000 127.0.0.1 port");
    announce("mymaster 127.0.0.1 7000 127.0.0.1 70000");
    announce("othermaster 127.0.0.1 7000 127.0.0.1 7002");
    announce("mymaster 127.0.0.1 7000 127.0.0.1 7003");
    // Messages on one connection arrive in order: the well-formed one comes after the others.
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo("127.0.0.1:7000 -> 127.0.0.1:7003");
    assertThat(followed).isEmpty();
  }

  @Test
  void aSwitchBackToTheMasterLastFollowedIsFollowedWhenTheSwitchAwayWasMissed() throws Exception {
    watch.subscribe().get(10, TimeUnit.SECONDS);
    announce("mymaster 127.0.0.1 7000 127.0.0.1 7001"); // A -> B, followed
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo("127.0.0.1:7000 -> 127.0.0.1:7001");
    announce("mymaster 127.0.0.1 7000 127.0.0.1 7001"); // another Sentinel's word for it: ignored

    // The subscription drops (a Sentinel restarted, the network): B -> A is announced meanwhile
    // and missed; the store reaches A when Sentinel demotes B. Lettuce subscribes again.
    String before = subscriber();
    assertThat(fakeSentinel.cli("client", "kill", "type", "pubsub").trim()).isEqualTo("1");
    await("subscribed again", () -> {
      String now = subscriber();
      return !now.isEmpty() && !now.equals(before);
    });
    // A -> B again: the store may be on A now, so this is a switch to follow, not a repetition.
    announce("mymaster 127.0.0.1 7000 127.0.0.1 7001");
    assertThat(followed.poll(10, TimeUnit.SECONDS)).isEqualTo("127.0.0.1:7000 -> 127.0.0.1:7001");
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

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting until " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }
}
