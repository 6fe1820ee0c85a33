package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.input.SafeUrlFetcher;
import io.modelguard.input.UrlCheck;
import io.modelguard.input.UrlRefusal;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * {@code --allow-fetch-host} entries and the fetcher built from them. The fetcher checks below
 * never connect ({@link SafeUrlFetcher#check} only parses and classifies) and use IP literals or
 * names refused before any lookup, so no DNS query is sent.
 */
class FetchAllowListTest {

  @Test
  void parsesNamesPatternsAndAddressesWithOptionalPorts() {
    assertThat(FetchAllowList.parse(" Images.Example.COM. "))
        .isEqualTo(new FetchAllowList.Entry("images.example.com", OptionalInt.empty(), false));
    assertThat(FetchAllowList.parse("*.cdn.example.net:8443"))
        .isEqualTo(new FetchAllowList.Entry("*.cdn.example.net", OptionalInt.of(8443), false));
    assertThat(FetchAllowList.parse("8.8.8.8"))
        .isEqualTo(new FetchAllowList.Entry("8.8.8.8", OptionalInt.empty(), false));
    assertThat(FetchAllowList.parse("127.0.0.1:8089"))
        .isEqualTo(new FetchAllowList.Entry("127.0.0.1", OptionalInt.of(8089), true));
    assertThat(FetchAllowList.parse("10.1.2.3:80").internal()).isTrue();
  }

  @Test
  void refusesEntriesThatCannotMeanWhatTheySay() {
    assertRefused("", "an empty host; expected HOST or HOST:PORT");
    assertRefused("127.0.0.1", "'127.0.0.1' is an internal address: it is allowed only with an explicit port, "
        + "such as 127.0.0.1:8081");
    assertRefused("169.254.169.254", "'169.254.169.254' is an internal address");
    assertRefused("203.0.113.9", "'203.0.113.9' is an internal address"); // documentation space is not public
    assertRefused("localhost:8080", "'localhost:8080' is always refused");
    assertRefused("api.localhost", "'api.localhost' is always refused");
    assertRefused("metadata.google.internal", "'metadata.google.internal' is always refused");
    assertRefused("127.1:8080", "write an IPv4 address as four decimal numbers");
    assertRefused("0x7f000001:8080", "write an IPv4 address as four decimal numbers");
    assertRefused("017.0.0.1:80", "write an IPv4 address as four decimal numbers");
    assertRefused("[::1]:8080", "IPv6 addresses are not supported");
    assertRefused("http://images.example.com/", "not a URL");
    assertRefused("user@images.example.com", "not a URL");
    assertRefused("images.example.com:99999", "the port must be a number from 1 to 65535");
    assertRefused("images.example.com:", "the port must be a number from 1 to 65535");
    assertRefused("images_example.com", "is not a host name, *.suffix pattern or IPv4 address");
    assertRefused("-images.example.com", "is not a host name, *.suffix pattern or IPv4 address");
    assertRefused("ex ample.com", "printable ASCII");
    assertRefused("bücher.example", "printable ASCII");
  }

  private static void assertRefused(String entry, String message) {
    assertThatThrownBy(() -> FetchAllowList.parse(entry))
        .as(entry).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void withoutEntriesAnyPublicAddressOnTheDefaultPortsPassesAndEveryInternalOneIsRefused() {
    SafeUrlFetcher fetcher = FetchAllowList.none().fetcher(1024);

    assertRefusal(fetcher.check("http://203.0.113.9/digit.png"), UrlRefusal.DENIED_ADDRESS); // documentation space
    assertThat(fetcher.check("http://8.8.8.8/digit.png").isAllowed()).isTrue();
    assertThat(fetcher.check("https://8.8.8.8/digit.png").isAllowed()).isTrue();
    assertRefusal(fetcher.check("http://8.8.8.8:8080/digit.png"), UrlRefusal.PORT_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://127.0.0.1:8089/digit.png"), UrlRefusal.DENIED_ADDRESS);
    assertRefusal(fetcher.check("http://169.254.169.254/latest/meta-data/"), UrlRefusal.DENIED_ADDRESS);
    assertRefusal(fetcher.check("http://localhost:8089/digit.png"), UrlRefusal.DENIED_NAME);
  }

  @Test
  void anInternalEntryOpensExactlyItsAddressAndPort() {
    SafeUrlFetcher fetcher = FetchAllowList.of(List.of(FetchAllowList.parse("127.0.0.1:8089"))).fetcher(1024);

    assertThat(fetcher.check("http://127.0.0.1:8089/digit.png").isAllowed()).isTrue();
    assertRefusal(fetcher.check("http://127.0.0.1:8090/digit.png"), UrlRefusal.DENIED_ADDRESS);
    assertRefusal(fetcher.check("http://127.0.0.2:8089/digit.png"), UrlRefusal.HOST_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://169.254.169.254/latest/meta-data/"), UrlRefusal.HOST_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://8.8.8.8/digit.png"), UrlRefusal.HOST_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://localhost:8089/digit.png"), UrlRefusal.DENIED_NAME);
  }

  @Test
  void aPortGivenWithAPublicHostIsAddedToTheDefaultPorts() {
    SafeUrlFetcher fetcher = FetchAllowList.of(List.of(
        FetchAllowList.parse("8.8.8.8:8080"), FetchAllowList.parse("images.example.com"))).fetcher(1024);

    assertThat(fetcher.check("http://8.8.8.8:8080/digit.png").isAllowed()).isTrue();
    assertThat(fetcher.check("http://8.8.8.8/digit.png").isAllowed()).isTrue();
    assertRefusal(fetcher.check("http://8.8.4.4/digit.png"), UrlRefusal.HOST_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://8.8.8.8:8081/digit.png"), UrlRefusal.PORT_NOT_ALLOWED);
    assertRefusal(fetcher.check("http://other.example.com/digit.png"), UrlRefusal.HOST_NOT_ALLOWED);
  }

  @Test
  void duplicatesAreDroppedAndTheDescriptionListsTheEntries() {
    FetchAllowList list = FetchAllowList.of(List.of(
        FetchAllowList.parse("127.0.0.1:8089"), FetchAllowList.parse("images.example.com"),
        FetchAllowList.parse("127.0.0.1:8089")));

    assertThat(list.entries()).hasSize(2);
    assertThat(list.describe()).isEqualTo("only 127.0.0.1:8089, images.example.com");
    assertThat(FetchAllowList.none().describe()).startsWith("any public host on ports 80 and 443");
    assertThat(FetchAllowList.of(List.of())).isSameAs(FetchAllowList.none());
  }

  private static void assertRefusal(UrlCheck check, UrlRefusal reason) {
    assertThat(check.refusal()).as(check.toString()).contains(reason);
  }
}
