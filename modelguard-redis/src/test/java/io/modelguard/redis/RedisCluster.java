package io.modelguard.redis;

import io.modelguard.test.redis.RedisServer;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.SlotHash;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real three-master Redis Cluster on loopback (no replicas), made with {@code redis-cli
 * --cluster create}. Closed in {@code @AfterAll}.
 */
final class RedisCluster implements AutoCloseable {
  private final List<RedisServer> nodes = new ArrayList<>();

  private RedisCluster() {}

  static RedisCluster start() {
    RedisCluster cluster = new RedisCluster();
    try {
      for (int i = 0; i < 3; i++) {
        cluster.nodes.add(RedisServer.start(List.of(
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "1000", "--cluster-port", "0")));
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (RedisServer node : cluster.nodes) {
        create.add("127.0.0.1:" + node.port());
      }
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      String out = RedisServer.run(create, 60);
      if (!out.contains("[OK] All 16384 slots covered")) {
        throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
      }
      cluster.awaitHealthy(TimeUnit.SECONDS.toMillis(20));
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  List<RedisURI> seeds() {
    List<RedisURI> seeds = new ArrayList<>();
    for (RedisServer node : nodes) {
      seeds.add(RedisURI.create(node.url()));
    }
    return seeds;
  }

  /** The nodes, each a master, in the order of {@link #seeds()}. */
  List<RedisServer> nodes() {
    return List.copyOf(nodes);
  }

  /** The node serving {@code key}'s slot. */
  RedisServer nodeFor(String key) {
    int slot = SlotHash.getSlot(key);
    for (RedisServer node : nodes) {
      if (!node.isRunning()) {
        continue;
      }
      for (String line : node.cli("cluster", "nodes").split("\n")) {
        if (line.contains("myself")) {
          String[] f = line.trim().split(" ");
          for (int i = 8; i < f.length; i++) {
            if (f[i].startsWith("[")) {
              continue; // a slot in migration, [<slot>->-<target>] or [<slot>-<-<source>]: still served by its master
            }
            String[] range = f[i].split("-");
            int lo = Integer.parseInt(range[0]);
            int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
            if (slot >= lo && slot <= hi) {
              return node;
            }
          }
        }
      }
    }
    throw new IllegalStateException("no node serves slot " + slot);
  }

  /**
   * Lets every master serve its slots while another is down ({@code cluster-require-full-coverage
   * no}); else once the cluster marks a master failed, the others refuse every key too.
   */
  void servePartially() {
    for (RedisServer node : nodes) {
      String reply = node.cli("config", "set", "cluster-require-full-coverage", "no");
      if (!reply.contains("OK")) {
        throw new IllegalStateException("config set cluster-require-full-coverage failed: " + reply);
      }
    }
  }

  /**
   * A tenant key whose {@code limit} key each node serves, in the order of {@link #nodes()}: so a
   * test can drive decisions on every master.
   */
  Map<RedisServer, QuotaKey> oneKeyPerNode(QuotaLimit limit) {
    Map<RedisServer, QuotaKey> found = new HashMap<>();
    String run = UUID.randomUUID().toString();
    for (int i = 0; found.size() < nodes.size(); i++) {
      if (i >= 1_000) {
        throw new IllegalStateException("no key found on every node in 1,000 tries");
      }
      QuotaKey key = QuotaKey.forTenant("per-node-" + run + "-" + i, "digits");
      found.putIfAbsent(nodeFor(redisKey(key, limit)), key);
    }
    Map<RedisServer, QuotaKey> ordered = new LinkedHashMap<>();
    nodes.forEach(node -> ordered.put(node, found.get(node)));
    return ordered;
  }

  /** The Redis key of {@code limit} of {@code key}, under the default prefix. */
  static String redisKey(QuotaKey key, QuotaLimit limit) {
    return RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:" + RedisScriptStore.limitKey(limit);
  }

  /** Waits until every running node reports {@code cluster_state:ok}. */
  boolean awaitHealthy(long millis) {
    long deadline = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < deadline) {
      boolean ok = true;
      for (RedisServer node : nodes) {
        if (!node.cli("cluster", "info").contains("cluster_state:ok")) {
          ok = false;
          break;
        }
      }
      if (ok) {
        return true;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  @Override
  public void close() {
    for (RedisServer node : nodes) {
      node.close();
    }
  }
}
