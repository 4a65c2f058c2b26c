package io.detraft.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which messages may leave before their Ready is durable: a leader's replication messages
 * in a term that is already on disk (Raft thesis §10.2.1), and nothing else.
 */
class EarlyReplicationTest {

  private static RawNode node(long id, Membership membership) {
    // Without PreVote a campaign raises the term at once: fewer steps to script.
    return new RawNode(Config.defaults(id).withPreVote(false), new MemoryLogStorage(membership),
        id);
  }

  @Test
  void aLeaderReplicatesBeforeItsFsyncButVotesAndAcksWait() {
    Membership three = Membership.of(1, 2, 3);
    RawNode leader = node(1, three);
    RawNode follower = node(2, three);

    leader.campaign();
    Ready campaign = leader.ready();
    assertNotNull(campaign.hardState());
    assertEquals(1, campaign.hardState().term());
    assertTrue(campaign.mustSync());
    for (Message m : campaign.messages()) {
      assertInstanceOf(Message.VoteRequest.class, m);
      assertFalse(campaign.maySendBeforeSync(m), "a vote request before its term is durable");
    }
    leader.advance(campaign);

    follower.step(campaign.messages().get(0));
    Ready vote = follower.ready();
    assertInstanceOf(Message.VoteResponse.class, vote.messages().get(0));
    assertFalse(vote.maySendBeforeSync(vote.messages().get(0)), "a vote before it is durable");
    follower.advance(vote);

    leader.step(vote.messages().get(0));
    Ready elected = leader.ready();
    assertEquals(Role.LEADER, elected.softState().role());
    assertFalse(elected.entries().isEmpty(), "the new leader appends an entry of its term");
    assertTrue(elected.mustSync());
    List<Message> appends = elected.messages();
    assertFalse(appends.isEmpty());
    for (Message m : appends) {
      assertInstanceOf(Message.AppendRequest.class, m);
      assertTrue(elected.maySendBeforeSync(m), "the term was durable before this Ready");
    }
    leader.advance(elected);

    follower.step(appends.get(0));
    Ready ack = follower.ready();
    assertInstanceOf(Message.AppendResponse.class, ack.messages().get(0));
    assertFalse(ack.maySendBeforeSync(ack.messages().get(0)), "an ack before the entries");
    follower.advance(ack);
  }

  @Test
  void aLeaderWhoseTermIsNotDurableYetWaits() {
    // A single voter with a learner wins its election in the Ready that raises its term. Had
    // it replicated first and then crashed, it could lead the same term again with another
    // log, and the learner would hold two different entries for one (term, index).
    Membership withLearner = new Membership(new long[] {1}, new long[] {2});
    RawNode leader = node(1, withLearner);
    leader.campaign();
    Ready rd = leader.ready();
    assertEquals(Role.LEADER, rd.softState().role());
    assertNotNull(rd.hardState());
    assertEquals(1, rd.hardState().term());
    assertFalse(rd.messages().isEmpty(), "the learner gets the new leader's entry");
    for (Message m : rd.messages()) {
      assertFalse(rd.maySendBeforeSync(m), "sent in a term not yet durable: " + m);
    }
    leader.advance(rd);
  }
}
