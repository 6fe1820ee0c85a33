package io.modelguard.test.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} (or a Redis Sentinel: {@link #startSentinel}) on a free loopback
 * port, without persistence, in a temporary directory. Tests start it in {@code @BeforeAll} and {@link #close()} it in {@code @AfterAll}; a
 * shutdown hook kills it if the JVM exits first.
 */
public final class RedisServer implements AutoCloseable {
  private final Path dir;
  private final List<String> extraArgs;
  /** The configuration file passed before the arguments; null for none. */
  private final Path configFile;
  private int port;
  private int clusterPort;
  private Process process;
  private final Thread reaper = new Thread(this::killQuietly, "redis-server-reaper");

  private RedisServer(Path dir, List<String> extraArgs, Path configFile) {
    this.dir = dir;
    this.extraArgs = extraArgs;
    this.configFile = configFile;
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * Starts a standalone server.
   *
   * @return the running server; close it to stop it and delete its directory
   */
  public static RedisServer start() {
    return start(List.of());
  }

  /**
   * Starts a server with extra arguments; {@code --cluster-port} followed by {@code 0} picks a free
   * bus port. Retries on other ports if one is taken (other builds share this machine).
   *
   * @param extraArgs arguments added to {@code redis-server}'s command line after the port; not
   *     null
   * @return the running server; close it to stop it and delete its directory
   */
  public static RedisServer start(List<String> extraArgs) {
    return start(null, extraArgs);
  }

  /**
   * Starts a Redis Sentinel on a free port, monitoring {@code master} under {@code masterName} with
   * {@code quorum}, and the {@code settings} for that master (the lines {@code sentinel <setting>
   * <masterName> <value>}, such as {@code down-after-milliseconds} and {@code failover-timeout}).
   * Sentinel needs a configuration file, which it rewrites with what it learns: it lives in the
   * server's directory. Retries on other ports if one is taken.
   *
   * @param masterName the name Sentinel knows the master by
   * @param master the running master to monitor, on {@code 127.0.0.1}
   * @param quorum how many Sentinels must agree that the master is down: 1 for a single Sentinel
   * @param settings setting name to value, one {@code sentinel} line each; empty for none
   * @return the running Sentinel; close it to stop it and delete its directory
   */
  public static RedisServer startSentinel(String masterName, RedisServer master, int quorum,
      Map<String, String> settings) {
    StringBuilder config = new StringBuilder()
        .append("sentinel monitor ").append(masterName).append(" 127.0.0.1 ").append(master.port())
        .append(' ').append(quorum).append('\n');
    settings.forEach((setting, value) ->
        config.append("sentinel ").append(setting).append(' ').append(masterName).append(' ').append(value).append('\n'));
    return start(config.toString(), List.of("--sentinel"));
  }

  private static RedisServer start(String config, List<String> extraArgs) {
    try {
      Path dir = Files.createTempDirectory("modelguard-redis-");
      Path configFile = config == null ? null : dir.resolve("redis.conf");
      RedisServer server = new RedisServer(dir, extraArgs, configFile);
      for (int attempt = 0; ; attempt++) {
        server.port = freePort();
        server.clusterPort = freePort();
        if (configFile != null) {
          Files.writeString(configFile, config); // afresh: a failed start may have rewritten it
        }
        try {
          server.launch();
          return server;
        } catch (IllegalStateException e) {
          if (attempt >= 4) {
            server.close();
            throw e;
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@return a free loopback port (may be taken by the time it is used: callers retry)} */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@return the loopback port the server listens on} */
  public int port() {
    return port;
  }

  /** {@return the server's URL, {@code redis://127.0.0.1:<port>}} */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** {@return the server's temporary working directory} */
  public Path dir() {
    return dir;
  }

  /** {@return whether the server process is alive} */
  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Starts the server again on the same port, in the same directory (an empty dataset). */
  public void restart() {
    launch();
  }

  /**
   * Runs {@code redis-cli} against this server and returns its output.
   *
   * @param args the arguments after {@code -h} and {@code -p}, such as {@code "INFO",
   *     "replication"}
   * @return the standard output and error of {@code redis-cli}, combined
   */
  public String cli(String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    return run(command, 30);
  }

  /**
   * Runs {@code command}, waits up to {@code timeoutSeconds}, and returns its combined output.
   *
   * @param command the program and its arguments
   * @param timeoutSeconds how long to wait for the process to end before killing it
   * @return the process's standard output and error, combined, decoded as UTF-8
   */
  public static String run(List<String> command, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + command);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void launch() {
    List<String> command = new ArrayList<>(List.of("redis-server"));
    if (configFile != null) {
      command.add(configFile.toString());
    }
    command.addAll(List.of(
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", dir.toString(), "--daemonize", "no"));
    for (int i = 0; i < extraArgs.size(); i++) {
      boolean busPort = i > 0 && extraArgs.get(i - 1).equals("--cluster-port") && extraArgs.get(i).equals("0");
      command.add(busPort ? Integer.toString(clusterPort) : extraArgs.get(i));
    }
    try {
      process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start redis-server (is it installed?)", e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited on port " + port + " (port taken?)");
      }
      if (ping()) {
        // Another process may have taken the port between freePort() and now, or while this server
        // was down before a restart: it answers PING while this one exits on bind. Only this
        // process's own id will do.
        long answering = answeringPid();
        if (answering == process.pid()) {
          return;
        }
        if (answering >= 0) {
          // Gone before the caller hears of it: SIGKILL is delivered asynchronously, and a caller
          // that checks isRunning() (or starts another server) must not find it still alive.
          kill();
          throw new IllegalStateException("port " + port + " is answered by another redis-server (process "
              + answering + "), not the one started (port taken)");
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    kill();
    throw new IllegalStateException("redis-server did not answer on port " + port);
  }

  private boolean ping() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] buf = new byte[16];
      int n = s.getInputStream().read(buf);
      return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  /** The {@code process_id} the server on {@link #port} reports in {@code INFO server}; -1 if none is read. */
  private long answeringPid() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("INFO server\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder reply = new StringBuilder();
      byte[] buf = new byte[4096];
      // The section is a few hundred bytes: read until its process_id line is whole, 64 KiB at most.
      while (reply.length() < 64 * 1024) {
        int at = reply.indexOf("\r\nprocess_id:");
        int end = at < 0 ? -1 : reply.indexOf("\r\n", at + 2);
        if (end >= 0) {
          return Long.parseLong(reply.substring(at + "\r\nprocess_id:".length(), end).trim());
        }
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        reply.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
      }
      return -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  private void killQuietly() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp directory
    }
  }
}
