package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.jsonwebtoken.security.Jwks;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Phase;
import io.modelguard.Tier;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Configuration: defaults, and every mistake reported at {@code build()} with the field it concerns. */
class JwtAuthenticatorBuilderTest {
  private final MutableClock clock = MutableClock.standard();

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  @Test
  void defaultsAreRs256Es256AndEdDsaOnly() {
    JwtAuthenticator jwt = JwtFixtures.rsa().build();

    assertThat(jwt.allowedAlgorithms()).isEqualTo(Set.of("RS256", "ES256", "EdDSA"));
    assertThat(JwtAuthenticator.DEFAULT_CLOCK_SKEW).isEqualTo(Duration.ofSeconds(60));
    assertThat(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH).isEqualTo(8192);
  }

  @Test
  void anIssuerWithoutAnAudienceIsWarnedAbout() {
    // One identity provider, one issuer, many services: without an audience, a token it minted for
    // another service passes here.
    try (io.modelguard.LogCapture logs = io.modelguard.LogCapture.of(JwtAuthenticator.class, ch.qos.logback.classic.Level.WARN)) {
      JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic()).issuer(JwtFixtures.ISSUER).build();
      assertThat(logs.messagesAt(ch.qos.logback.classic.Level.WARN)).singleElement().asString()
          .contains("no audience is configured").contains("audience(...)");
    }
    try (io.modelguard.LogCapture logs = io.modelguard.LogCapture.of(JwtAuthenticator.class, ch.qos.logback.classic.Level.WARN)) {
      JwtFixtures.rsa().build();
      assertThat(logs.messagesAt(ch.qos.logback.classic.Level.WARN)).as("issuer and audience set").isEmpty();
    }
  }

  @Test
  void onlyAnAlgorithmTheApplicationListedWithoutAKeyIsReported() {
    // An HMAC-only authenticator cannot take the asymmetric defaults off its list (allowedAlgorithms
    // refuses HS* and an empty list), so reporting them would be start-up noise it cannot silence.
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    try (LogCapture logs = LogCapture.of(JwtAuthenticator.class, Level.INFO)) {
      JwtAuthenticator.builder().hmacSecret("HS256", secret).issuer(JwtFixtures.ISSUER).audience("models").build();
      JwtFixtures.rsa().build();
      assertThat(logs.messages()).as("default list, HMAC-only and RSA-only").isEmpty();
    }
    try (LogCapture logs = LogCapture.of(JwtAuthenticator.class, Level.INFO)) {
      JwtFixtures.rsa().allowedAlgorithms("RS256", "ES384").build();
      assertThat(logs.messages()).singleElement().asString()
          .contains("algorithm ES384 named in allowedAlgorithms(...)").contains("configure a key for it");
    }
  }

  @Test
  void keysThatSuitNoAllowedAlgorithmAreReportedEvenUnderTheDefaultList() throws Exception {
    // A P-384 key under the default list (RS256, ES256, EdDSA) verifies no token at all: every one
    // is a 401 whose reason is only at DEBUG. Not reporting the default list's unused algorithms
    // must not silence this too.
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp384r1"));
    PublicKey p384 = ec.generateKeyPair().getPublic();
    try (LogCapture logs = LogCapture.of(JwtAuthenticator.class, Level.INFO)) {
      JwtAuthenticator.builder().publicKey(p384).issuer(JwtFixtures.ISSUER).audience("models").build();
      assertThat(logs.messages()).singleElement().asString()
          .contains("no configured key suits any allowed algorithm", "RS256", "ES256", "EdDSA")
          .contains("allowedAlgorithms(...)");
    }
    try (LogCapture logs = LogCapture.of(JwtAuthenticator.class, Level.INFO)) {
      JwtAuthenticator.builder().publicKey(p384).allowedAlgorithms("ES384").issuer(JwtFixtures.ISSUER)
          .audience("models").build();
      assertThat(logs.messages()).as("a key for the listed algorithm").isEmpty();
    }
  }

  @Test
  void aDefaultTierTheEngineDoesNotRegisterFailsTheEnginesBuild() {
    // Tokens without a tier claim would get a tier that grants no model: every one refused, with no
    // hint why.
    JwtAuthenticator jwt = JwtFixtures.rsa().defaultTier("premium").build();
    ModelGuard.Builder engine = ModelGuard.builder().auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "jwt", jwt));

    assertThatThrownBy(engine::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'jwt': JwtAuthenticator defaultTier names unknown "
            + "tier 'premium'; register it with tier(...) or correct the name");
    assertThat(JwtFixtures.rsa().defaultTier("free").build()
        .configurationProblems(new ModelGuard.Configuration(Set.of("digits"), Set.of("free")))).isEmpty();
    assertThat(jwt.configurationProblems(new ModelGuard.Configuration(Set.of(), Set.of())))
        .as("an engine without tiers: nothing to check against").isEmpty();
  }

  @Test
  void weakHmacSecretsFailAtBuildNamingTheField() {
    for (String[] c : new String[][] {{"HS256", "31"}, {"HS384", "47"}, {"HS512", "63"}}) {
      JwtAuthenticator.Builder b = JwtAuthenticator.builder().hmacSecret(c[0], new byte[Integer.parseInt(c[1])]);

      assertThatThrownBy(b::build)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret")
          .hasMessageContaining(c[0]);
    }
  }

  @Test
  void anHmacSecretOfOneRepeatedByteFailsAtBuild() {
    // Long enough, but known to everyone: an unfilled (all-zero) buffer or a repeated character.
    // With it configured, anyone could sign a token that this authenticator accepts.
    for (byte[] secret : new byte[][] {new byte[32], "a".repeat(64).getBytes(StandardCharsets.US_ASCII)}) {
      assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("HS256", secret).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret")
          .hasMessageContaining("one repeated byte");
    }
  }

  @Test
  void anHmacSecretThatIsAPublishedKeyFailsAtBuild() throws Exception {
    // The RS256-to-HS256 confusion, configured by hand: the issuer's public key bytes (or its PEM,
    // certificate or JWK) as the HS256 secret built fine, and then anyone holding that public key
    // could sign tokens this authenticator accepted.
    PublicKey rsa = TestKeys.RSA.getPublic();
    byte[] certificate;
    try (java.io.InputStream in = getClass().getResourceAsStream("attacker-cert.pem")) {
      certificate = in.readAllBytes();
    }
    String jwk = Jwks.json(Jwks.builder().key((RSAPublicKey) rsa).id("k1").build());
    byte[][] published = {
        rsa.getEncoded(),
        TestKeys.EC_P256.getPublic().getEncoded(),
        Base64.getEncoder().encode(rsa.getEncoded()),
        pem("PUBLIC KEY", rsa.getEncoded()).getBytes(StandardCharsets.US_ASCII),
        certificate,
        jwk.getBytes(StandardCharsets.UTF_8),
        ("{\"keys\":[" + jwk + "]}").getBytes(StandardCharsets.UTF_8)};
    for (byte[] secret : published) {
      JwtAuthenticator.Builder b = JwtAuthenticator.builder().publicKey("k1", rsa).hmacSecret("HS256", secret);

      assertThatThrownBy(b::build).as(new String(secret, StandardCharsets.ISO_8859_1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret: the HS256 secret is a public key, certificate, PEM block or JWK");
    }
    assertThat(JwtAuthenticator.builder().hmacSecret("HS256", TestKeys.secret(32)).build().allowedAlgorithms())
        .as("random bytes").contains("HS256");
  }

  // Real output of `ssh-keygen -t rsa|ecdsa|ed25519 -C ops@issuer` and of
  // `openssl rsa -RSAPublicKey_out -outform DER | base64`, so the encodings built below are not
  // only checked against themselves.
  private static final String[] OPENSSH_LINES = {
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDYiCbXgxNtCMabq4+FaPxt2j3TjaNys1NmsWNCOw48adO00l1QPHDlyB4J8yqrO3M9C"
          + "Od7xpWowoLdciAOU+BXJ9hBXZzRTbHHXTNOD4N2E563T4yhpcI6h3LVhOYebGAcAHPE0x4Tn/F1ZI1goTa01/I4tD0ZqF0UwwLd7+cS"
          + "S/osCTdf74b6bf2kZ7VYSS+ltZxXdx90lGvNGmYGZTatiaVEWXBW5niSUwnJ724GIPbRf/Jmc9IRlk2ssElJL6vFYMfTVcIwAeveV8h"
          + "5w/ZBaQ0x0ICie1mZ5a4wERmFzb7+wmVFEqKEjnLiAoYv0OKzp3NLImiXtERP03qmL0m1 ops@issuer",
      "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHT/EXoP/UiDthlvixvNqplMiDstQm9G7xp"
          + "kGJgyzVOX1o+MljH2dvPyITEZCraSUKDJwjYfqE+28tprP9GMUyQ= ops@issuer",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGRezh7B/88H0Y8H8QCNJK/p3S8EqGKFDB7KSJffzeL ops@issuer"};
  private static final String OPENSSL_RSA_PUBLIC_KEY_DER_BASE64 =
      "MIIBCgKCAQEA8VYr7fp7AVKPvq4psMLWmPOkQQ5IyrVPHULzxE84QXM9O62jnWzhkF+E4xyzWomKN6ko9wV5vaMW4HDH88QFkQRxoCR4oOOu"
          + "c16zN4TuiE5Ay4WbjH3PsLxU1X/jI/gjdWcK5BDQdKObFPTQkbXtKXSeWU2VovmkisCZvDxNX7d/SAL90EkIFXG6GUorkSEjkh3D//Nr"
          + "b84qAgjxLCRsDH9ISyAM4dC1Q6g2Fxz5BLwxC1yBC/Z08i4D4HdpMWzfkd+7QJskXV5LbRrvZ+L53cmwVHa9928RCorX26KdaCwu3xXD"
          + "F/UR50KNcR90Tx5SVzSpMHZECmbMDq7GXqE/hwIDAQAB";
  // `openssl ec -text` prints the public point like this.
  private static final String OPENSSL_EC_POINT_TEXT = """
          04:97:1b:99:d7:87:e3:11:e7:fb:22:42:32:5a:d2:
          a0:91:af:bb:a1:5d:ba:bc:9e:7d:ee:ca:b2:0f:70:
          3c:ff:63:7f:fe:56:b9:6b:c6:7a:57:fe:54:e1:45:
          16:c5:eb:18:14:18:35:c9:98:ed:be:9b:80:d4:9a:
          f3:b6:19:6e:9d
      """;

  @Test
  void anHmacSecretThatIsAPublicKeyInAnyCommonSpellingFailsAtBuild() throws Exception {
    // The same confusion through the spellings the first check missed: each built, and anyone with
    // the public key (from the JWKS, a certificate, authorized_keys) could have signed HS256 tokens.
    RSAPublicKey rsa = (RSAPublicKey) TestKeys.RSA.getPublic();
    byte[] spki = rsa.getEncoded();
    byte[] pkcs1 = der(0x30,
        der(0x02, rsa.getModulus().toByteArray()), der(0x02, rsa.getPublicExponent().toByteArray()));
    byte[] certificate;
    try (java.io.InputStream in = getClass().getResourceAsStream("attacker-cert.pem")) {
      certificate = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded();
    }
    ECPublicKey p256 = (ECPublicKey) TestKeys.EC_P256.getPublic();
    ECPublicKey p384 = (ECPublicKey) TestKeys.EC_P384.getPublic();
    ECPublicKey p521 = (ECPublicKey) TestKeys.ec("secp521r1").getPublic();
    byte[] ed25519 = TestKeys.ED25519.getPublic().getEncoded();
    String rsaSsh = base64(ssh(ascii("ssh-rsa"),
        rsa.getPublicExponent().toByteArray(), rsa.getModulus().toByteArray()));
    String p256Ssh = base64(ssh(ascii("ecdsa-sha2-nistp256"), ascii("nistp256"), point(p256)));
    String ed25519Ssh = base64(ssh(ascii("ssh-ed25519"),
        Arrays.copyOfRange(ed25519, ed25519.length - 32, ed25519.length)));
    Base64.Encoder url = Base64.getUrlEncoder();
    HexFormat hex = HexFormat.of();

    Map<String, byte[]> published = new LinkedHashMap<>();
    published.put("PKCS#1 RSAPublicKey DER", pkcs1);
    published.put("PKCS#1 RSAPublicKey base64", Base64.getEncoder().encode(pkcs1));
    published.put("openssl -RSAPublicKey_out base64", ascii(OPENSSL_RSA_PUBLIC_KEY_DER_BASE64));
    published.put("openssl -RSAPublicKey_out DER", Base64.getDecoder().decode(OPENSSL_RSA_PUBLIC_KEY_DER_BASE64));
    published.put("SPKI base64url", url.encode(spki));
    published.put("SPKI base64url unpadded", url.withoutPadding().encode(spki));
    published.put("EC SPKI base64url unpadded", url.withoutPadding().encode(p256.getEncoded()));
    published.put("certificate base64url", url.encode(certificate));
    published.put("PKCS#1 base64url unpadded", url.withoutPadding().encode(pkcs1));
    published.put("SPKI hex", ascii(hex.formatHex(spki)));
    published.put("SPKI HEX", ascii(hex.withUpperCase().formatHex(spki)));
    published.put("SPKI hex with colons", ascii(HexFormat.ofDelimiter(":").formatHex(spki)));
    published.put("SPKI hex with spaces", ascii(HexFormat.ofDelimiter(" ").withUpperCase().formatHex(spki)));
    published.put("certificate hex", ascii(hex.formatHex(certificate)));
    published.put("PKCS#1 hex", ascii(hex.formatHex(pkcs1)));
    published.put("P-256 point", point(p256));
    published.put("P-384 point", point(p384));
    published.put("P-521 point", point(p521));
    published.put("P-256 point hex", ascii(hex.formatHex(point(p256))));
    published.put("P-256 point base64", Base64.getEncoder().encode(point(p256)));
    published.put("openssl ec -text point", ascii(OPENSSL_EC_POINT_TEXT));
    published.put("ssh-rsa line", ascii("ssh-rsa " + rsaSsh));
    published.put("ecdsa-sha2-nistp256 line with comment", ascii("ecdsa-sha2-nistp256 " + p256Ssh + " ops@issuer\n"));
    published.put("ssh-ed25519 line with comment", ascii("ssh-ed25519 " + ed25519Ssh + " ops@issuer"));
    published.put("ssh-rsa body", ascii(rsaSsh));
    published.put("ecdsa body", ascii(p256Ssh));
    published.put("ssh-ed25519 body", ascii(ed25519Ssh));
    published.put("ssh-ed25519 body, wire bytes", Base64.getDecoder().decode(ed25519Ssh));
    for (String line : OPENSSH_LINES) {
      published.put("ssh-keygen: " + line.substring(0, 12), ascii(line));
      published.put("ssh-keygen body: " + line.substring(0, 12), ascii(line.split(" ")[1]));
    }
    published.put("RFC 4716 SSH2 PUBLIC KEY", ascii("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"ops@issuer\"\n"
        + Base64.getMimeEncoder().encodeToString(Base64.getDecoder().decode(rsaSsh))
        + "\n---- END SSH2 PUBLIC KEY ----\n"));

    List<String> built = new ArrayList<>();
    published.forEach((form, secret) -> {
      try {
        JwtAuthenticator.builder().publicKey("k1", rsa).hmacSecret("HS256", secret).build();
        built.add(form);
      } catch (IllegalStateException e) {
        assertThat(e).as(form)
            .hasMessageContaining("hmacSecret: the HS256 secret is a public key, certificate, PEM block or JWK");
      }
    });
    assertThat(built).as("public keys accepted as the HS256 secret").isEmpty();
  }

  @Test
  void randomHmacSecretsAndTheirHexAndBase64SpellingsStillBuild() {
    // Operators keep secrets as hex or base64 text as often as raw bytes; none of it may be taken
    // for a key. One random 65-byte string in 256 starts with 0x04 like an uncompressed P-256
    // point, so those lengths are also tried with that prefix: only the curve equation tells them
    // apart. (A raw Ed25519 public key is 32 random-looking bytes and cannot be refused.)
    SecureRandom random = new SecureRandom();
    HexFormat hex = HexFormat.of();
    List<String> refused = new ArrayList<>();
    int[][] shapes = {{32, -1}, {48, -1}, {64, -1}, {65, -1}, {65, 0x04}, {97, 0x04}, {133, 0x04}};
    for (int[] shape : shapes) {
      for (int i = 0; i < 1_000; i++) {
        byte[] secret = new byte[shape[0]];
        random.nextBytes(secret);
        if (shape[1] >= 0) {
          secret[0] = (byte) shape[1];
        }
        byte[][] spellings = {
            secret,
            ascii(hex.formatHex(secret)),
            ascii(hex.withUpperCase().formatHex(secret)),
            Base64.getEncoder().encode(secret),
            Base64.getUrlEncoder().withoutPadding().encode(secret)};
        for (byte[] spelling : spellings) {
          try {
            JwtAuthenticator.builder().hmacSecret("HS256", spelling).build();
          } catch (IllegalStateException e) {
            refused.add(hex.formatHex(spelling) + ": " + e.getMessage());
          }
        }
      }
    }
    assertThat(refused).as("random secrets refused").isEmpty();
    byte[] offCurve = point((ECPublicKey) TestKeys.EC_P256.getPublic());
    offCurve[64] ^= 1;
    assertThat(JwtAuthenticator.builder().hmacSecret("HS256", offCurve).build().allowedAlgorithms())
        .as("a P-256 point with one bit of Y flipped is off the curve: just bytes").contains("HS256");
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** One DER element: tag, definite length, the parts as content. */
  private static byte[] der(int tag, byte[]... parts) {
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) {
      content.writeBytes(part);
    }
    int length = content.size();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(tag);
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length);
    }
    out.writeBytes(content.toByteArray());
    return out.toByteArray();
  }

  /** The OpenSSH wire encoding: each part as a 4-byte big-endian length and its bytes. */
  private static byte[] ssh(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(part.length).array());
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** The uncompressed point {@code 0x04 || X || Y}, each coordinate as wide as the field. */
  private static byte[] point(ECPublicKey key) {
    int size = (key.getParams().getCurve().getField().getFieldSize() + 7) / 8;
    byte[] point = new byte[1 + 2 * size];
    point[0] = 0x04;
    fixed(key.getW().getAffineX(), point, 1, size);
    fixed(key.getW().getAffineY(), point, 1 + size, size);
    return point;
  }

  private static void fixed(BigInteger value, byte[] into, int offset, int size) {
    byte[] bytes = value.toByteArray();
    int skip = Math.max(0, bytes.length - size);
    System.arraycopy(bytes, skip, into, offset + size - (bytes.length - skip), bytes.length - skip);
  }

  @Test
  void aStrongHmacSecretEnablesOnlyItsOwnAlgorithm() {
    byte[] secret = TestKeys.secret(64);
    JwtAuthenticator jwt = JwtAuthenticator.builder().hmacSecret("HS384", secret).build();
    Tokens.Json claims = Tokens.claims(clock.instant());

    assertThat(jwt.allowedAlgorithms()).contains("HS384").doesNotContain("HS256", "HS512");
    assertThat(jwt.authenticate(Tokens.sign("HS384", new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA384"),
        Tokens.header("HS384", null), claims), clock.instant())).isPresent();
    assertThat(jwt.authenticate(Tokens.sign("HS512", new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA512"),
        Tokens.header("HS512", null), claims), clock.instant())).as("same secret, other algorithm").isEmpty();
  }

  @Test
  void hmacCannotBeEnabledThroughTheAlgorithmList() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().allowedAlgorithms("HS256"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowedAlgorithms").hasMessageContaining("hmacSecret");
    assertThatThrownBy(() -> JwtAuthenticator.builder().allowedAlgorithms("none"))
        .hasMessageContaining("allowedAlgorithms");
    assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("RS256", new byte[64]))
        .hasMessageContaining("hmacSecret");
  }

  @Test
  void weakOrUnusableKeysFailAtBuild() {
    PublicKey rsa1024 = TestKeys.rsa(1024).getPublic();

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(rsa1024).build())
        .hasMessageContaining("publicKey").hasMessageContaining("2048");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", rsa1024.getEncoded())).build())
        .hasMessageContaining("publicKeyPem");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem("not a pem").build())
        .hasMessageContaining("publicKeyPem").hasMessageContaining("no PEM block");
    assertThatThrownBy(() -> JwtAuthenticator.builder()
        .publicKeyPem(pem("PRIVATE KEY", TestKeys.RSA.getPrivate().getEncoded())).build())
        .hasMessageContaining("publicKeyPem").hasMessageContaining("never a private key");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwk("{\"kty\":\"oct\",\"k\":\"" + Tokens.b64(new byte[64]) + "\"}").build())
        .hasMessageContaining("jwk").hasMessageContaining("secret");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwkSet("{\"keys\":[]}").build())
        .hasMessageContaining("jwkSet");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("HS256", new byte[8]).publicKeyPem("x").build())
        .hasMessageContaining("hmacSecret").hasMessageContaining("publicKeyPem");
  }

  @Test
  void keysAreRequiredAndEitherConfiguredOrFromOneSource() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().build()).hasMessageContaining("keys:");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(TestKeys.RSA.getPublic())
        .keySource((alg, kid) -> java.util.Optional.empty()).build())
        .hasMessageContaining("not both");
  }

  @Test
  void aMaximumTokenAgeTooLongToAddToAnInstantFailsAtOnceNotOnEveryRequest() {
    // Accepted by the setter, it overflowed on each token with iat: an ArithmeticException out of
    // the policy, so every request became internal.error (500) with a stack trace in the log.
    assertThatThrownBy(() -> JwtAuthenticator.builder().maxTokenAge(Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JwtAuthenticator.maxTokenAge");
    JwtAuthenticator longest = JwtFixtures.rsa().maxTokenAge(JwtAuthenticator.MAX_TOKEN_AGE_LIMIT).build();

    assertThat(longest.authenticate(Tokens.rs256(Tokens.claims(clock.instant())), clock.instant())).isPresent();
  }

  @Test
  void settersRejectOutOfRangeValuesAtOnce() {
    JwtAuthenticator.Builder b = JwtAuthenticator.builder();

    assertThatThrownBy(() -> b.clockSkew(Duration.ofMinutes(6))).hasMessageContaining("JwtAuthenticator.clockSkew");
    assertThatThrownBy(() -> b.clockSkew(Duration.ofSeconds(-1))).hasMessageContaining("clockSkew");
    assertThatThrownBy(() -> b.maxTokenLength(100)).hasMessageContaining("maxTokenLength");
    assertThatThrownBy(() -> b.maxTokenAge(Duration.ZERO)).hasMessageContaining("maxTokenAge");
    assertThatThrownBy(() -> b.issuer(" ")).hasMessageContaining("issuer");
    assertThatThrownBy(() -> b.audience()).hasMessageContaining("audience");
    assertThatThrownBy(() -> b.otherCredentialHeaders("Authorization")).hasMessageContaining("otherCredentialHeaders");
    assertThatThrownBy(() -> b.verifiedTokenCacheSize(-1)).hasMessageContaining("verifiedTokenCacheSize");
    assertThatThrownBy(() -> b.subjectClaim("")).hasMessageContaining("subjectClaim");
  }

  @Test
  void acceptsKeysAsPemCertificateJwkAndJwkSet() throws Exception {
    java.security.cert.X509Certificate cert;
    try (java.io.InputStream in = getClass().getResourceAsStream("attacker-cert.pem")) {
      cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    String rsaJwk = Jwks.json(Jwks.builder().key((RSAPublicKey) TestKeys.RSA.getPublic()).id("k1").build());
    String ecJwk = Jwks.json(Jwks.builder().key(TestKeys.EC_P256.getPublic()).id("e1").build());
    Tokens.Json claims = Tokens.claims(clock.instant());
    String rs = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1"), claims);
    String es = Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "e1"), claims);

    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", TestKeys.RSA.getPublic().getEncoded()))
        .build().authenticate(rs, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", TestKeys.EC_P256.getPublic().getEncoded()))
        .build().authenticate(es, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("CERTIFICATE", cert.getEncoded())).build()
        .authenticate(rs, clock.instant())).as("certificate of another key").isEmpty();
    assertThat(JwtAuthenticator.builder().jwk(rsaJwk).build().authenticate(rs, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().jwkSet("{\"keys\":[" + rsaJwk + "," + ecJwk + "]}").build()
        .authenticate(es, clock.instant())).isPresent();
  }

  @Test
  void verifiesEveryAsymmetricAlgorithmWhenAllowed() {
    JwtAuthenticator all = JwtAuthenticator.builder()
        .allowedAlgorithms("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
        .publicKey("rsa", TestKeys.RSA.getPublic())
        .publicKey("p256", TestKeys.EC_P256.getPublic())
        .publicKey("p384", TestKeys.EC_P384.getPublic())
        .publicKey("ed", TestKeys.ED25519.getPublic())
        .build();
    Tokens.Json claims = Tokens.claims(clock.instant());

    for (String alg : new String[] {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
      assertThat(all.authenticate(Tokens.sign(alg, TestKeys.RSA.getPrivate(), Tokens.header(alg, "rsa"), claims),
          clock.instant())).as(alg).isPresent();
    }
    assertThat(all.authenticate(Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "p256"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("ES384", TestKeys.EC_P384.getPrivate(), Tokens.header("ES384", "p384"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("EdDSA", TestKeys.ED25519.getPrivate(), Tokens.header("EdDSA", "ed"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "p384"),
        claims), clock.instant())).as("ES256 with a P-384 key").isEmpty();
  }

  @Test
  void aTokenWithoutKidNeedsExactlyOneSuitableKey() {
    Tokens.Json claims = Tokens.claims(clock.instant());
    String noKid = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", null), claims);

    assertThat(JwtAuthenticator.builder().publicKey(TestKeys.RSA.getPublic()).publicKey(TestKeys.EC_P256.getPublic())
        .build().authenticate(noKid, clock.instant())).as("one RSA key").isPresent();
    assertThat(JwtAuthenticator.builder().publicKey("a", TestKeys.RSA.getPublic()).publicKey("b", TestKeys.RSA_OTHER.getPublic())
        .build().authenticate(noKid, clock.instant())).as("two RSA keys: ambiguous").isEmpty();
  }
}
