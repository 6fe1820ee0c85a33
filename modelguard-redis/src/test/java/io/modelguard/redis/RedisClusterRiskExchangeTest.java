package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.modelguard.ReasonCode;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Two instances' extraction defences sharing raised levels through a real three-master Redis
 * Cluster, each exchange reaching it through a different seed node.
 */
class RedisClusterRiskExchangeTest {
  private static final Prediction P = Prediction.of(new double[] {0.1, 0.7, 0.2});

  private final FakeClock clock = FakeClock.standard();
  private final String channel = "mg:test-risk:" + UUID.randomUUID();

  /** See {@link RiskExchangeDefences#defence}. */
  private ExtractionDefence defence(RedisRiskExchange exchange) {
    return RiskExchangeDefences.defence(exchange, clock);
  }

  /** An exchange on the cluster through {@code seed} only, its connections named {@code name}. */
  private RedisRiskExchange exchange(RedisServer seed, String name) {
    RedisURI uri = RedisURI.create(seed.url());
    uri.setClientName(name);
    RedisRiskExchange exchange = RedisRiskExchange.clusterBuilder(List.of(uri)).channel(channel).build();
    assertThat(exchange.awaitReady(Duration.ofSeconds(20))).as("%s ready", name).isTrue();
    return exchange;
  }

  /** The running node on which the connection named {@code name} is subscribed, if any. */
  private static Optional<RedisServer> subscribedOn(RedisCluster cluster, String name) {
    return connectedOn(cluster, name, " sub=1 ");
  }

  /** The running node to which the connection named {@code name} sent a PUBLISH last, if any. */
  private static Optional<RedisServer> publishedOn(RedisCluster cluster, String name) {
    return connectedOn(cluster, name, " cmd=publish ");
  }

  private static Optional<RedisServer> connectedOn(RedisCluster cluster, String name, String what) {
    for (RedisServer node : cluster.nodes()) {
      if (!node.isRunning()) {
        continue;
      }
      for (String line : node.cli("client", "list").split("\n")) {
        if (line.contains(" name=" + name + " ") && line.contains(what)) {
          return Optional.of(node);
        }
      }
    }
    return Optional.empty();
  }

  @Test
  void aClientBlockedOnOneInstanceIsBlockedOnAnInstanceReachingTheClusterThroughAnotherNode() {
    try (RedisCluster cluster = RedisCluster.start();
        RedisRiskExchange exchangeA = exchange(cluster.nodes().get(0), "risk-a");
        RedisRiskExchange exchangeB = exchange(cluster.nodes().get(1), "risk-b")) {
      ExtractionDefence a = defence(exchangeA);
      ExtractionDefence b = defence(exchangeB);

      for (int q = 10; q < 14; q++) {
        a.observe("p:acme:mallory", new double[] {q, 1, 2}, P);
      }

      Poll.until("B blocks the client A blocked", () -> b.level("p:acme:mallory") == RiskLevel.BLOCK);
      assertThat(b.admit("p:acme:mallory").reason()).contains(ReasonCode.EXTRACTION_BLOCKED);
      Poll.until("Redis took A's four raises, one per level risen", () -> exchangeA.publishedRaises() == 4);
      assertThat(exchangeB.publishedRaises()).as("received raises are not published again").isZero();
      assertThat(exchangeA.receivedRaises()).as("A ignores its own raises").isZero();

      // Whichever node A published through: a raise published on any node reaches B.
      RedisServer bNode = subscribedOn(cluster, "risk-b").orElseThrow();
      List<String> clients = new ArrayList<>();
      for (RedisServer node : cluster.nodes()) {
        String client = "p:acme:via-" + node.port();
        clients.add(client);
        node.cli("publish", channel, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\",\"client\":\"" + client
            + "\",\"score\":2.5,\"at\":" + clock.millis() + "}");
      }
      Poll.until("raises published on every node reached B, subscribed on " + bNode.port(),
          () -> clients.stream().allMatch(c -> b.level(c) == RiskLevel.MISINFORM));
      assertThat(exchangeB.ignoredMessages()).isZero();
    }
  }

  /**
   * The node B subscribed through and the node A published through fail (one node or two; the
   * test kit's cluster has no replicas: their slots stay unserved, which PUBLISH, naming no key,
   * does not need): Lettuce reconnects both connections to a node still running, B subscribes
   * again, and raises published after reach B.
   */
  @Test
  void afterTheNodesSubscribedAndPublishedThroughAreKilledRaisesReachTheInstanceAgain() {
    try (RedisCluster cluster = RedisCluster.start();
        RedisRiskExchange exchangeA = exchange(cluster.nodes().get(0), "risk-a");
        RedisRiskExchange exchangeB = exchange(cluster.nodes().get(1), "risk-b")) {
      ExtractionDefence a = defence(exchangeA);
      ExtractionDefence b = defence(exchangeB);
      awaitRaisesFlow(a, b, "before the nodes are killed");
      RedisServer subscribedNode = subscribedOn(cluster, "risk-b").orElseThrow();
      RedisServer publishedNode = publishedOn(cluster, "risk-a").orElseThrow();

      subscribedNode.kill();
      if (publishedNode != subscribedNode) {
        publishedNode.kill();
      }

      awaitRaisesFlow(a, b, "after the node B subscribed through (" + subscribedNode.port() + ") and the node A "
          + "published through (" + publishedNode.port() + ") were killed");
      assertThat(subscribedOn(cluster, "risk-b")).as("B subscribed on a node still running").isPresent();
      assertThat(publishedOn(cluster, "risk-a")).as("A published through a node still running").isPresent();
      assertThat(exchangeB.ignoredMessages()).isZero();
    }
  }

  @Test
  void aClusterNeedsASeed() {
    assertThatThrownBy(() -> RedisRiskExchange.clusterBuilder(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one cluster seed");
    List<RedisURI> withNull = new ArrayList<>();
    withNull.add(null);
    assertThatThrownBy(() -> RedisRiskExchange.clusterBuilder(withNull))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null");
  }

  /**
   * Waits until a rise on {@code from} reaches {@code to}: each try is a new client's rise,
   * published until {@code to} has subscribed again and takes one.
   */
  private static void awaitRaisesFlow(ExtractionDefence from, ExtractionDefence to, String when) {
    String run = UUID.randomUUID().toString(); // clients of this wait only
    int[] tries = {0};
    Poll.until("a raise published " + when + " reaches B", () -> {
      String client = "p:acme:" + run + "-" + tries[0]++;
      from.observe(client, new double[] {10, 1, 2}, P);
      return to.level(client) == RiskLevel.PERTURB;
    });
  }
}
