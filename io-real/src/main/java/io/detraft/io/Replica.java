package io.detraft.io;

import io.detraft.core.Entry;
import io.detraft.core.EntryType;
import io.detraft.core.ProposeResult;
import io.detraft.core.RawNode;
import io.detraft.core.Ready;
import io.detraft.core.Role;
import io.detraft.core.StateMachine;
import io.detraft.core.Status;
import io.detraft.io.ProposalException.Reason;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;

/**
 * One group hosted by a {@link NodeRunner}: its node, its log image, its state machine, and
 * the proposals waiting to apply. Touched only by the Raft thread, except {@link #status}.
 *
 * <p>A waiting proposal is matched by (index, term): the leader appended it there, so when the
 * entry at that index applies, the proposal succeeded if and only if the terms agree.
 * Invariant: {@code pending} is ordered by index, strictly increasing.
 */
final class Replica {
  /** A proposal the leader appended at (index, term), waiting to apply. */
  private record Pending(long index, long term, CompletableFuture<byte[]> future,
      long deadlineNanos) {}

  final long group;
  final RawNode node;
  final GroupLog log;
  private final StateMachine stateMachine;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  /** Role and term as of the last Ready, to notice a lost leadership. */
  private Role role = Role.FOLLOWER;
  private long leader;
  private long term;
  /** The Ready being handled in this loop iteration, or null. */
  Ready ready;
  /** Published for other threads after every Ready. */
  volatile Status status;

  Replica(long group, RawNode node, GroupLog log, StateMachine stateMachine) {
    this.group = group;
    this.node = node;
    this.log = log;
    this.stateMachine = stateMachine;
    this.status = node.status();
    this.term = status.term();
  }

  void propose(byte[] command, CompletableFuture<byte[]> future, long deadlineNanos) {
    ProposeResult result = node.propose(command);
    if (result instanceof ProposeResult.Accepted accepted) {
      // Anything waiting at this index or above was appended in an older term and is gone
      // from this log. (Another replica may still hold it and commit it: outcome unknown.)
      while (!pending.isEmpty() && pending.peekLast().index >= accepted.index()) {
        fail(pending.pollLast(), Reason.LEADERSHIP_LOST, 0, "overwritten in this log");
      }
      pending.addLast(new Pending(accepted.index(), accepted.term(), future, deadlineNanos));
    } else if (result instanceof ProposeResult.NotLeader notLeader) {
      future.completeExceptionally(new ProposalException(Reason.NOT_LEADER,
          notLeader.leaderHint(), "group " + group + " leader is " + notLeader.leaderHint()));
    } else if (result instanceof ProposeResult.Forwarded forwarded) {
      // The runner configures no forwarding; should it happen, the outcome is unknown.
      future.completeExceptionally(new ProposalException(Reason.LEADERSHIP_LOST,
          forwarded.leader(), "forwarded to node " + forwarded.leader()));
    }
  }

  /**
   * Step 4 of the Ready contract for this group: applies the committed entries, answers the
   * proposals they settle, then fails those a lost leadership leaves behind.
   */
  void apply(Ready rd) {
    for (Entry entry : rd.committedEntries()) {
      byte[] result = null;
      // Empty normal entries are the no-ops new leaders commit; configuration entries are
      // Raft's business. Neither is a command for the state machine.
      if (entry.type() == EntryType.NORMAL && entry.data().length > 0) {
        result = stateMachine.apply(entry.index(), entry.data());
      }
      settle(entry, result == null ? new byte[0] : result);
    }
    if (rd.softState() != null) {
      role = rd.softState().role();
      leader = rd.softState().leader();
    }
    if (rd.hardState() != null) {
      term = rd.hardState().term();
    }
    if (role != Role.LEADER) {
      failAll(Reason.LEADERSHIP_LOST, leader, "no longer leader of group " + group);
    }
    // Older-term proposals sit in front: the ones behind them were accepted later.
    while (!pending.isEmpty() && pending.peekFirst().term < term) {
      fail(pending.pollFirst(), Reason.LEADERSHIP_LOST, leader,
          "leadership of group " + group + " lost before term " + term);
    }
  }

  private void settle(Entry entry, byte[] result) {
    while (!pending.isEmpty() && pending.peekFirst().index <= entry.index()) {
      Pending p = pending.pollFirst();
      if (p.index == entry.index() && p.term == entry.term()) {
        p.future.complete(result);
      } else {
        fail(p, Reason.DROPPED, 0, "entry " + entry.index() + " committed in term "
            + entry.term() + ", the proposal was appended in term " + p.term);
      }
    }
  }

  /** Fails the waiting proposals whose deadline passed (deadlines grow with the index). */
  void expire(long nowNanos) {
    while (!pending.isEmpty() && pending.peekFirst().deadlineNanos - nowNanos < 0) {
      fail(pending.pollFirst(), Reason.TIMEOUT, leader, "not applied in time");
    }
  }

  void failAll(Reason reason, long leaderHint, String message) {
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      fail(it.next(), reason, leaderHint, message);
      it.remove();
    }
  }

  private static void fail(Pending p, Reason reason, long leaderHint, String message) {
    p.future.completeExceptionally(new ProposalException(reason, leaderHint, message));
  }
}
