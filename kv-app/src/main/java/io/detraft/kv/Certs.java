package io.detraft.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * {@code detraft certs}: a development certificate authority and certificates signed by it, in
 * one directory, as PEM files that Netty, OpenSSL (redis-cli --tls) and curl read: {@code
 * ca.pem}/{@code ca.key}, {@code node-N.pem}/{@code node-N.key} for each node, and {@code
 * client.pem}/{@code client.key} for mutual TLS. Keys are EC P-256 in PKCS#8, readable by the
 * owner only. The JDK cannot sign a certificate through a public API, so BouncyCastle's
 * X.509 builder does it (bcpkix).
 *
 * <p>A node's certificate names it: subject {@code CN=node-N, OU=CLUSTER, O=detraft} and the
 * URI {@code detraft://CLUSTER/node/N} among its subject alternative names, beside {@code
 * localhost}, {@code 127.0.0.1} and the {@code --hosts} given, so a peer can check the id a
 * node claims against its certificate.
 */
final class Certs {
  private static final Duration VALIDITY = Duration.ofDays(365);

  private Certs() {}

  static int run(Flags f, PrintStream out, PrintStream err) {
    if (!f.positional().isEmpty()) {
      throw new Flags.UsageException("unexpected argument " + f.positional().get(0));
    }
    if (!f.has("dir")) {
      throw new Flags.UsageException("--dir is required");
    }
    Path dir = Path.of(f.get("dir"));
    int nodes = (int) f.number("nodes", 3, 1, 1000);
    String cluster = f.get("cluster", "detraft");
    if (!cluster.matches("[A-Za-z0-9._-]+")) {
      throw new Flags.UsageException("--cluster: letters, digits, '.', '_' and '-' only");
    }
    List<String> hosts = new ArrayList<>(List.of("localhost", "127.0.0.1"));
    if (f.has("hosts")) {
      hosts.addAll(List.of(f.get("hosts").split(",")));
    }
    try {
      Files.createDirectories(dir);
      if (Files.exists(dir.resolve("ca.pem"))) {
        err.println("detraft: " + dir.resolve("ca.pem") + " exists; certs never overwrites: "
            + "choose an empty --dir");
        return Main.FAILED;
      }
      KeyPair ca = newKeyPair();
      X500Name caName = new X500Name("CN=detraft development CA, OU=" + cluster
          + ", O=detraft");
      X509v3CertificateBuilder caBuilder = builder(caName, caName, ca);
      caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      caBuilder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      write(dir, "ca", sign(caBuilder, ca), ca);
      for (int id = 1; id <= nodes; id++) {
        KeyPair node = newKeyPair();
        X509v3CertificateBuilder b = builder(caName, new X500Name("CN=node-" + id + ", OU="
            + cluster + ", O=detraft"), node);
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier,
            "detraft://" + cluster + "/node/" + id));
        for (String host : hosts) {
          names.add(isAddress(host) ? new GeneralName(GeneralName.iPAddress, host)
              : new GeneralName(GeneralName.dNSName, host));
        }
        b.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(names.toArray(new GeneralName[0])));
        leaf(b, KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
        write(dir, "node-" + id, sign(b, ca), node);
      }
      KeyPair client = newKeyPair();
      X509v3CertificateBuilder b = builder(caName, new X500Name("CN=client, OU=" + cluster
          + ", O=detraft"), client);
      leaf(b, KeyPurposeId.id_kp_clientAuth);
      write(dir, "client", sign(b, ca), client);
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      err.println("detraft: certs: " + e.getMessage());
      return Main.FAILED;
    }
    out.println("wrote a CA (ca.pem, ca.key), " + nodes + " node certificate"
        + (nodes == 1 ? "" : "s") + " (node-N.pem, node-N.key) and a client certificate "
        + "(client.pem, client.key) for cluster " + cluster + " to " + dir);
    return Main.OK;
  }

  private static boolean isAddress(String host) {
    return host.matches("[0-9.]+") || host.contains(":");
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject,
      KeyPair keys) throws GeneralSecurityException, IOException {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
        new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), subject,
        keys.getPublic());
    b.addExtension(Extension.subjectKeyIdentifier, false,
        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
    return b;
  }

  private static void leaf(X509v3CertificateBuilder b, KeyPurposeId... purposes)
      throws IOException {
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
  }

  private static X509CertificateHolder sign(X509v3CertificateBuilder b, KeyPair issuer)
      throws OperatorCreationException {
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate()));
  }

  /** NAME.pem (the certificate) and NAME.key (PKCS#8, owner-only where POSIX allows). */
  private static void write(Path dir, String name, X509CertificateHolder certificate,
      KeyPair keys) throws IOException {
    Files.writeString(dir.resolve(name + ".pem"), pem("CERTIFICATE", certificate.getEncoded()));
    Path key = dir.resolve(name + ".key");
    Files.writeString(key, "");
    try {
      Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the key keeps the directory's permissions
    }
    Files.writeString(key, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
