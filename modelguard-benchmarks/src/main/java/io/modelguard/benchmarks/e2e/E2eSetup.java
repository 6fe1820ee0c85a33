package io.modelguard.benchmarks.e2e;

import io.modelguard.RandomSource;
import io.modelguard.authn.ApiKeyFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the inputs of the end-to-end benchmark ({@code e2e.sh}) into a directory:
 *
 * <ul>
 *   <li>{@code bench-config.json}: the demo configuration with one tier, {@code bench}, granting
 *       {@code digits} with limits far above what the benchmark can send (so every request is
 *       counted and allowed), and {@code clients} API keys of that tier, one tenant each;
 *   <li>{@code keys.txt}: those keys, one a line (the load generator rotates them, so each
 *       simulated client sends a fraction of the load, as in real traffic);
 *   <li>{@code subjects.txt}: as many other subjects ({@code bench-jwt-N}), for minting one demo
 *       bearer token each;
 *   <li>{@code bodies.txt}: every row of the demo's digits data as a request body, one a line
 *       (real inputs, so the extraction defence sees benign traffic).
 * </ul>
 *
 * Run with the demo jar on the class path (it holds the data and the API-key format):
 * {@code java -cp modelguard-examples.jar E2eSetup.java OUT_DIR CLIENTS}.
 */
public final class E2eSetup {
  private static final String DIGITS_CSV = "io/modelguard/examples/data/digits.csv";
  /** Above anything a loopback benchmark sends in a second (a token bucket's largest: one per microsecond). */
  private static final long BURST = 1_000_000L;
  /** Above anything a loopback benchmark of a few minutes sends in a minute. */
  private static final long PER_MINUTE = 1_000_000_000L;

  private E2eSetup() {}

  /** {@code OUT_DIR CLIENTS}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: E2eSetup OUT_DIR CLIENTS");
    }
    Path out = Path.of(args[0]);
    int clients = Integer.parseInt(args[1]);
    Files.createDirectories(out);
    RandomSource random = RandomSource.secure();
    List<String> keys = new ArrayList<>();
    List<String> subjects = new ArrayList<>();
    StringBuilder config = new StringBuilder();
    config.append("{\n  \"tiers\": {\n    \"bench\": {\n      \"models\": [\"digits\"],\n      \"limits\": [\n")
        .append("        { \"name\": \"burst\", \"quota\": ").append(BURST).append(", \"windowSeconds\": 1 },\n")
        .append("        { \"name\": \"minute\", \"quota\": ").append(PER_MINUTE)
        .append(", \"windowSeconds\": 60, \"algorithm\": \"sliding\" }\n      ]\n    }\n  },\n  \"keys\": [\n");
    for (int i = 0; i < clients; i++) {
      String key = ApiKeyFormat.generate(ApiKeyFormat.Environment.TEST, random);
      String subject = "bench-" + i;
      keys.add(key);
      // Token holders are other clients than key holders: the extraction defence tracks each
      // principal, and the two runs must not share their clients' history.
      subjects.add("bench-jwt-" + i);
      config.append("    { \"key\": \"").append(key).append("\", \"subject\": \"").append(subject)
          .append("\", \"tenant\": \"").append(subject).append("\", \"tier\": \"bench\" }")
          .append(i + 1 < clients ? ",\n" : "\n");
    }
    config.append("  ]\n}\n");
    Files.writeString(out.resolve("bench-config.json"), config, StandardCharsets.UTF_8);
    Files.write(out.resolve("keys.txt"), keys, StandardCharsets.US_ASCII);
    Files.write(out.resolve("subjects.txt"), subjects, StandardCharsets.US_ASCII);
    Files.write(out.resolve("bodies.txt"), bodies(), StandardCharsets.US_ASCII);
  }

  private static List<String> bodies() throws IOException {
    List<String> bodies = new ArrayList<>();
    InputStream csv = E2eSetup.class.getClassLoader().getResourceAsStream(DIGITS_CSV);
    if (csv == null) {
      throw new IOException(DIGITS_CSV + " is not on the class path; put modelguard-examples.jar on it");
    }
    try (BufferedReader in = new BufferedReader(new InputStreamReader(csv, StandardCharsets.US_ASCII))) {
      in.readLine(); // header: p0..p63,label
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String pixels = line.substring(0, line.lastIndexOf(','));
        bodies.add("{\"pixels\":[" + pixels + "]}");
      }
    }
    return bodies;
  }
}
