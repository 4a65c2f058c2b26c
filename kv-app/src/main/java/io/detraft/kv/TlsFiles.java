package io.detraft.kv;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A JDK TLS context from the PEM files of {@code detraft certs}: the node-to-node transport's
 * (its key and certificate, shown as server and as client, and the CA it trusts), and a test
 * client's.
 */
final class TlsFiles {
  private TlsFiles() {}

  /**
   * Trusts {@code ca}; shows {@code certificate} with {@code key} (PKCS#8, EC or RSA) unless
   * they are null.
   *
   * @throws IllegalStateException naming the files, if they cannot be used
   */
  static SSLContext context(Path ca, Path certificate, Path key) {
    try {
      return build(ca, certificate, key);
    } catch (Exception e) {
      throw new IllegalStateException("cannot use the TLS files " + ca
          + (certificate == null ? "" : ", " + certificate + ", " + key) + ": " + e);
    }
  }

  /** As {@link #context}, for a client. */
  static SSLContext clientContext(Path ca, Path certificate, Path key) {
    return context(ca, certificate, key);
  }

  private static SSLContext build(Path ca, Path certificate, Path key) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", certificate(ca));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (certificate != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      String pem = Files.readString(key).replaceAll("-----[A-Z ]+-----", "")
          .replaceAll("\\s", "");
      PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem));
      PrivateKey privateKey;
      try {
        privateKey = KeyFactory.getInstance("EC").generatePrivate(spec);
      } catch (java.security.spec.InvalidKeySpecException notEc) {
        privateKey = KeyFactory.getInstance("RSA").generatePrivate(spec);
      }
      keys.setKeyEntry("me", privateKey, new char[0],
          new Certificate[] {certificate(certificate)});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  private static Certificate certificate(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }
}
