package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The audit timestamp is Instant.toString, character for character. */
class IsoInstantFormatTest {
  private final IsoInstantFormat format = new IsoInstantFormat();

  private String text(Instant instant) {
    StringBuilder out = new StringBuilder();
    format.append(out, instant);
    return out.toString();
  }

  @Test
  void writesEveryFractionWidthAsInstantToStringDoes() {
    List<Instant> instants = new ArrayList<>(List.of(Instant.EPOCH, Instant.parse("2026-01-01T00:00:00Z"),
        Instant.parse("2026-01-01T00:00:00.123Z"), Instant.parse("2026-01-01T00:00:00.000123Z"),
        Instant.parse("2026-01-01T00:00:00.000000001Z"), Instant.parse("2026-01-01T00:00:00.100Z"),
        Instant.parse("2026-01-01T00:00:00.120Z"), Instant.parse("2026-01-01T00:00:00.1234Z"),
        Instant.parse("2026-01-01T00:00:00.999999999Z"), Instant.parse("1969-12-31T23:59:59.5Z"),
        Instant.parse("0000-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999Z"),
        Instant.parse("+10000-01-01T00:00:00Z"), Instant.parse("-0001-12-31T23:59:59Z"), Instant.MIN, Instant.MAX));
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      long second = random.nextLong(-70_000_000_000L, 260_000_000_000L);
      int nanos = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1_000_000;
        case 2 -> random.nextInt(1_000_000) * 1_000;
        default -> random.nextInt(1_000_000_000);
      };
      instants.add(Instant.ofEpochSecond(second, nanos));
    }
    for (Instant instant : instants) {
      assertThat(text(instant)).isEqualTo(instant.toString());
    }
  }

  @Test
  void reusesTheSecondOnlyForTheSameSecond() {
    Instant at = Instant.parse("2026-01-01T00:00:59.999Z");
    assertThat(text(at)).isEqualTo("2026-01-01T00:00:59.999Z");
    assertThat(text(at.plusMillis(1))).isEqualTo("2026-01-01T00:01:00Z");
    assertThat(text(at)).isEqualTo("2026-01-01T00:00:59.999Z");
  }
}
