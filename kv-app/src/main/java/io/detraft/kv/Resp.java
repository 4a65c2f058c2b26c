package io.detraft.kv;

import io.detraft.kv.resp.RespServer;
import java.net.InetSocketAddress;

/** Starts the RESP front end of a node for the CLI ({@code --resp}); it closes with the node. */
final class Resp {
  private Resp() {}

  /** Serves RESP on {@code hostPort} for {@code server}; returns the bound address. */
  static InetSocketAddress serve(KvServer server, String hostPort) {
    RespServer resp = RespServer.start(server.access(), Peers.address(hostPort),
        RespServer.Options.defaults());
    server.closeWith(resp);
    return resp.address();
  }
}
