package io.modelguard.redis;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.modelguard.extraction.ClientScope;
import io.modelguard.extraction.RiskRaise;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The messages of {@link RedisRiskExchange}: a raise as a JSON object with a version, and the
 * Lettuce codec that hands the exchange a message's bytes only if they are few enough to read.
 */
final class RiskRaiseCodec {
  /**
   * The version of the messages written and the only one read. Members added since it was first
   * written are optional, so messages with and without them are read by instances of either kind:
   * {@code scope} (the publisher's {@link ClientScope}, lower case) was added so.
   */
  static final int VERSION = 1;
  /** The longest instance id read. */
  private static final int MAX_FROM = 64;
  private static final JsonFactory JSON = new JsonFactory();
  /** What the codec gives for a message over {@link RedisRiskExchange#MAX_PAYLOAD_BYTES}: compared by identity. */
  private static final byte[] OVERSIZED = new byte[0];

  /** Channel names as UTF-8 text, messages as bytes (those too long not copied). */
  static final RedisCodec<String, byte[]> REDIS = new RedisCodec<>() {
    @Override
    public String decodeKey(ByteBuffer bytes) {
      return StringCodec.UTF8.decodeKey(bytes);
    }

    @Override
    public byte[] decodeValue(ByteBuffer bytes) {
      if (bytes.remaining() > RedisRiskExchange.MAX_PAYLOAD_BYTES) {
        return OVERSIZED;
      }
      byte[] b = new byte[bytes.remaining()];
      bytes.get(b);
      return b;
    }

    @Override
    public ByteBuffer encodeKey(String key) {
      return StringCodec.UTF8.encodeKey(key);
    }

    @Override
    public ByteBuffer encodeValue(byte[] value) {
      return ByteBuffer.wrap(value);
    }
  };

  private RiskRaiseCodec() {}

  /** A decoded message: the publishing instance and its raise. */
  record Message(String from, RiskRaise raise) {}

  /** {@code raise} from {@code instance}, as the message's bytes. */
  static byte[] encode(String instance, RiskRaise raise) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + raise.client().length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("v", VERSION);
      g.writeStringField("from", instance);
      g.writeStringField("label", raise.label());
      g.writeStringField("client", raise.client());
      g.writeNumberField("score", raise.score());
      g.writeNumberField("at", raise.at().toEpochMilli());
      if (raise.scope() != null) {
        g.writeStringField("scope", scopeName(raise.scope()));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // not from a byte array
    }
    return out.toByteArray();
  }

  /**
   * The message in {@code payload}, or empty if it is not one: too long, not one JSON object, of
   * another version, with a member of a known name missing (but the optional {@code scope}), given
   * twice or of the wrong type, a {@code scope} that names no {@link ClientScope}, or a raise out of
   * {@link RiskRaise}'s bounds. Members of other names are skipped. A raise without {@code scope}
   * has a null scope.
   */
  static Optional<Message> decode(byte[] payload) {
    if (payload == OVERSIZED || payload.length == 0) {
      return Optional.empty();
    }
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return Optional.empty();
      }
      Integer version = null;
      String from = null;
      String label = null;
      String client = null;
      Double score = null;
      Long at = null;
      ClientScope scope = null;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        if (t != JsonToken.FIELD_NAME) {
          return Optional.empty(); // cut short
        }
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "v" -> {
            if (version != null || value != JsonToken.VALUE_NUMBER_INT) {
              return Optional.empty();
            }
            version = p.getIntValue();
          }
          case "from" -> {
            if (from != null || value != JsonToken.VALUE_STRING) {
              return Optional.empty();
            }
            from = p.getText();
          }
          case "label" -> {
            if (label != null || value != JsonToken.VALUE_STRING) {
              return Optional.empty();
            }
            label = p.getText();
          }
          case "client" -> {
            if (client != null || value != JsonToken.VALUE_STRING) {
              return Optional.empty();
            }
            client = p.getText();
          }
          case "score" -> {
            if (score != null || !value.isNumeric()) {
              return Optional.empty();
            }
            score = p.getDoubleValue();
          }
          case "at" -> {
            if (at != null || value != JsonToken.VALUE_NUMBER_INT) {
              return Optional.empty();
            }
            at = p.getLongValue();
          }
          case "scope" -> {
            if (scope != null || value != JsonToken.VALUE_STRING) {
              return Optional.empty();
            }
            scope = scopeOf(p.getText());
            if (scope == null) {
              return Optional.empty();
            }
          }
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null || version == null || version != VERSION || from == null || from.isEmpty()
          || from.length() > MAX_FROM || label == null || client == null || score == null || at == null) {
        return Optional.empty();
      }
      return Optional.of(new Message(from, new RiskRaise(label, client, score, Instant.ofEpochMilli(at), scope)));
    } catch (IOException | RuntimeException e) {
      // Not JSON, a number out of range (getIntValue, getLongValue), a raise out of bounds.
      return Optional.empty();
    }
  }

  /** {@code scope} as the {@code scope} member writes it: its name in lower case. */
  static String scopeName(ClientScope scope) {
    return scope.name().toLowerCase(Locale.ROOT);
  }

  /** The scope {@code name} names as {@link #scopeName} writes it, or null if none. */
  private static ClientScope scopeOf(String name) {
    for (ClientScope scope : ClientScope.values()) {
      if (scopeName(scope).equals(name)) {
        return scope;
      }
    }
    return null;
  }
}
