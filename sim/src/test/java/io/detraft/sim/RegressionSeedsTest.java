package io.detraft.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeds that once failed, each for a reason fixed since (the commit that fixed it names the
 * seed): they must keep passing. A seed's run depends on every line of the simulator and the
 * node, so a later change may steer it elsewhere; it stays here as one more run, not as the
 * only test of its fix (each fix has its own unit test).
 */
class RegressionSeedsTest {
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {
      -131, // vote-count oracle forgot old-term votes while a partitioned pair raced ahead
      -405, // the leader spun forever on an unreadable snapshot image
      -2832, // a quiet group stayed split: a removed node moved its witness to a higher term
      -2868, // a witness recovered a snapshot of an index only witnesses had applied
      9000000000000001206L, // one Ready ended an install and started the next: lost the next
      500000000000000514L, // membership oracle: a committed no-op not yet applied anywhere
  })
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void passes(long seed) {
    SimResult result = new Simulation(SimOptions.derive(seed)).run();
    assertFalse(result.failed(), () -> result.report());
  }
}
