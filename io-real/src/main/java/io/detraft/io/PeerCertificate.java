package io.detraft.io;

import java.net.Socket;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;

/**
 * Which node a TLS peer's certificate names: a subject alternative name URI {@code
 * detraft://CLUSTER/node/ID} (as {@code detraft certs} writes). Trust in the certificate (its
 * CA) is the TLS layer's; this checks that the id a peer claims in the handshake, or the id
 * the dialer meant to reach, is the one its certificate names, so that a node cannot take
 * over another's link.
 */
final class PeerCertificate {
  private static final Pattern NODE_URI = Pattern.compile("detraft://[^/]+/node/(\\d+)");
  /** The subject alternative name type of a URI (RFC 5280). */
  private static final int URI = 6;

  private PeerCertificate() {}

  /** Null if {@code socket} is not TLS or its peer's certificate names {@code node}; else why. */
  static String mismatch(Socket socket, long node) {
    if (!(socket instanceof SSLSocket tls)) {
      return null;
    }
    Certificate[] chain;
    try {
      chain = tls.getSession().getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return "no verified peer certificate";
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return "no X.509 peer certificate";
    }
    Long named = nodeOf(leaf);
    if (named == null) {
      return "the certificate " + leaf.getSubjectX500Principal() + " names no detraft node";
    }
    return named == node ? null : "the certificate names node " + named + ", not node " + node;
  }

  /** The node id in {@code certificate}'s URIs, or null. */
  static Long nodeOf(X509Certificate certificate) {
    try {
      if (certificate.getSubjectAlternativeNames() == null) {
        return null;
      }
      for (List<?> name : certificate.getSubjectAlternativeNames()) {
        if (name.size() == 2 && Integer.valueOf(URI).equals(name.get(0))) {
          Matcher m = NODE_URI.matcher(String.valueOf(name.get(1)));
          if (m.matches()) {
            return Long.parseLong(m.group(1));
          }
        }
      }
    } catch (CertificateParsingException | NumberFormatException e) {
      return null;
    }
    return null;
  }
}
