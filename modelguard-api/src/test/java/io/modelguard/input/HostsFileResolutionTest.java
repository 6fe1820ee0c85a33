package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names that resolve to internal addresses through the JVM's own resolver, driven by a hosts file
 * ({@code -Djdk.net.hosts.file}, which the JDK reads once at start-up, hence a forked JVM). The
 * default resolver is used, not a fake, and nothing may connect to the loopback listener.
 */
class HostsFileResolutionTest {

  @Test
  void namesResolvingToInternalAddressesThroughAHostsFileAreRefusedBeforeConnecting(@TempDir Path dir) throws Exception {
    Path hosts = dir.resolve("hosts");
    Files.writeString(hosts, String.join("\n",
        "127.0.0.1 internal.hosts.test",
        "93.184.216.34 mixed.hosts.test",
        "10.0.0.7 mixed.hosts.test",
        "169.254.169.254 metadata.hosts.test",
        "::1 v6.hosts.test",
        "93.184.216.34 public.hosts.test",
        ""));
    try (AcceptRecorder listener = new AcceptRecorder()) {
      ForkedJvm.Result r = ForkedJvm.run(List.of("-Djdk.net.hosts.file=" + hosts), HostsFileProbe.class,
          Integer.toString(listener.port()));

      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output())
          .contains("resolved internal.hosts.test=[internal.hosts.test/127.0.0.1]")
          .contains("fetch internal.hosts.test=DENIED_ADDRESS")
          .contains("fetch mixed.hosts.test=DENIED_ADDRESS")
          .contains("fetch metadata.hosts.test=DENIED_ADDRESS")
          .contains("fetch v6.hosts.test=DENIED_ADDRESS")
          .contains("check public.hosts.test=ALLOWED [public.hosts.test/93.184.216.34]");
      assertThat(listener.accepts()).isZero();
    }
  }
}
