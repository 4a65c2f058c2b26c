package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Message;
import io.detraft.io.Frames;
import io.detraft.io.Handshake;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulated links open, fail and close as the real transport's do: a first message dials
 * and waits for the real handshake; a crash closes the connection, and frames in flight are
 * lost when the listener crashed but not when the dialer did; a dial to a node that is down fails and backs off; a hello from outside the
 * cluster is refused, and a refused hello of the cluster's own fails the seed. Driven by hand
 * on a simulation that never runs.
 */
class SimConnectionsTest {
  private static final SimOptions THREE = SimOptions.derive(1).withVoters(3);

  private final Simulation sim = new Simulation(THREE);
  private final SimNetwork net = sim.network();
  private long round;
  /** The network events {@link #run} handled, in order: "hello", "answer", "frame". */
  private final List<String> handled = new ArrayList<>();

  private void send(int from, int to) {
    net.send(from, new Message.Heartbeat(1, from, to, 1, 0, ++round));
  }

  /** Runs the agenda's network events; returns the rounds delivered to their receivers' links. */
  private List<Long> run() {
    List<Long> delivered = new ArrayList<>();
    for (Event e = sim.agenda().poll(); e != null; e = sim.agenda().poll()) {
      switch (e.kind) {
        case HANDSHAKE -> {
          handled.add(e.second == 1 ? "answer" : "hello");
          net.connections().onHandshake(e);
        }
        case HANDSHAKE_TIMEOUT -> net.connections().onTimeout(e);
        case DELIVER -> {
          handled.add("frame");
          if (e.second == 1 || net.connections().deliverable(e.peer, e.node, e.second / 2)) {
            delivered.add(round(e));
          }
        }
        default -> { }
      }
    }
    return delivered;
  }

  private static long round(Event delivery) {
    try {
      return ((Message.Heartbeat) Frames.decode((byte[]) delivery.payload, delivery.peer,
          delivery.node)).round();
    } catch (Frames.MalformedFrameException e) {
      throw new AssertionError(e);
    }
  }

  private void bootAll() {
    for (int id = 1; id <= 3; id++) {
      sim.node(id).boot();
    }
  }

  @Test
  void theFirstMessagesWaitForTheHandshakeThenGoInOrder() {
    bootAll();
    send(1, 2);
    send(1, 2);
    assertEquals(List.of(1L, 2L), run());
    assertEquals(List.of("hello", "answer", "frame", "frame"), handled,
        "the frames wait for the listener's answer");
    handled.clear();
    send(1, 2); // the connection is open: straight onto the wire
    assertEquals(List.of(3L), run());
    assertEquals(List.of("frame"), handled);
  }

  @Test
  void aListenerCrashClosesTheConnectionAndLosesWhatWasInFlight() {
    bootAll();
    send(1, 2);
    run();
    send(1, 2); // in flight when n2 crashes
    sim.node(2).crash("test");
    sim.node(2).boot();
    assertEquals(List.of(), run(), "a frame of the closed connection arrived");
    send(1, 2); // dials again
    assertEquals(List.of(3L), run());
  }

  @Test
  void whatADialerSentBeforeItCrashedStillArrives() {
    bootAll();
    send(1, 2);
    run();
    send(1, 2); // written to the socket: the kernel delivers it after the process died
    sim.node(1).crash("test");
    assertEquals(List.of(2L), run());
  }

  @Test
  void aDialToANodeThatIsDownFailsAndBacksOff() {
    sim.node(1).boot();
    send(1, 2); // n2 is down: its connect is refused
    assertEquals(List.of(), run());
    assertEquals(1, sim.marks().hits(SimMark.DIAL_FAILED));
    sim.node(2).boot();
    send(1, 2); // still backing off (now is 0): dropped, no dial
    assertEquals(List.of(), run());
    assertEquals(1, sim.marks().hits(SimMark.DIAL_FAILED));
  }

  @Test
  void aDialAcrossAPartitionTimesOut() {
    bootAll();
    net.partition(SimNetwork.Shape.ISOLATE_ONE, 0);
    int cutFrom = 0;
    int cutTo = 0;
    for (int a = 1; a <= 3 && cutFrom == 0; a++) {
      for (int b = 1; b <= 3; b++) {
        if (a != b && net.isCut(a, b)) {
          cutFrom = a;
          cutTo = b;
          break;
        }
      }
    }
    send(cutFrom, cutTo);
    assertEquals(List.of(), run());
    assertEquals(1, sim.marks().hits(SimMark.DIAL_FAILED), "no answer: the dial timed out");
  }

  @Test
  void strayHellosAreRefusedAndOwnHellosAccepted() {
    bootAll();
    String cluster = "sim-" + THREE.seed();
    List<byte[]> strays = List.of(Handshake.hello("another", 1, 2), Handshake.hello(cluster, 1, 9),
        Handshake.hello(cluster, 0, 2), Handshake.hello(cluster, 2, 2), new byte[] {'D', 'R'},
        "GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (byte[] stray : strays) {
      assertNotNull(Handshake.judge(stray, cluster, 2));
      net.connections().onHandshake(new Event(0, Event.Kind.HANDSHAKE, 2, 0, 0, 0, stray));
    }
    assertEquals(strays.size(), sim.marks().hits(SimMark.STRAY_HANDSHAKE_REFUSED));
    // A stray hello the listener accepted fails the seed.
    byte[] good = Handshake.hello(cluster, 1, 2);
    SimulationFailure accepted = assertThrows(SimulationFailure.class,
        () -> net.connections().onHandshake(new Event(0, Event.Kind.HANDSHAKE, 2, 0, 0, 0, good)));
    assertTrue(accepted.getMessage().contains("outside the cluster"), accepted.getMessage());
    // So does a refused hello of the cluster's own nodes.
    byte[] wrong = Handshake.hello("another", 1, 2);
    SimulationFailure refused = assertThrows(SimulationFailure.class,
        () -> net.connections().onHandshake(new Event(0, Event.Kind.HANDSHAKE, 2, 1, 1, 0, wrong)));
    assertTrue(refused.getMessage().contains("refused n1"), refused.getMessage());
  }
}
