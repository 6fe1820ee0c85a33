package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.input.ForkedJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An address that only looks like an IPv6 literal (hex digits, colons and dots, as a forwarded
 * header may carry it) is keyed as given, never resolved: a name lookup would block the request
 * thread on DNS for a string the client chose. Observed through the JVM's own resolver driven by a
 * hosts file ({@code -Djdk.net.hosts.file}, read once at start-up, hence a forked JVM) that answers
 * each of these strings with an address: a key carrying that address's /64 came from a lookup.
 */
class AddressKeyLookupTest {

  @Test
  void stringsTheJdkWouldResolveAsNamesAreKeyedAsGivenWithoutALookup(@TempDir Path dir) throws Exception {
    Path hosts = dir.resolve("hosts");
    // ".." and "." start with no hex digit or ':'; "ab" is what is left of "ab%x:1" without its zone.
    Files.writeString(hosts, "2001:db8:5:6::1 ..::1 .:1 ab\n");

    ForkedJvm.Result r = ForkedJvm.run(List.of("-Djdk.net.hosts.file=" + hosts), AddressLookupProbe.class,
        "..::1", ".:1", "ab%x:1");

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).as("the hosts file answers these names")
        .contains("resolves ..::1=2001:db8:5:6:0:0:0:1")
        .contains("resolves .:1=2001:db8:5:6:0:0:0:1")
        .contains("resolves ab=2001:db8:5:6:0:0:0:1");
    assertThat(r.output())
        .contains("key ..::1=a:..%3A%3A1")
        .contains("key .:1=a:.%3A1")
        .contains("key ab%x:1=a:ab%25x%3A1")
        .doesNotContain("db8%3A5%3A6");
  }
}
