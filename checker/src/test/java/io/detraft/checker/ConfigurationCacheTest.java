package io.detraft.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfigurationCacheTest {

  @Test
  void aConfigurationIsNewOnlyOnce() {
    LinearizedSet set = new LinearizedSet(10, 3);
    ConfigurationCache cache = new ConfigurationCache();
    set.add(set.definiteBit(2));
    assertTrue(cache.add(set, 5));
    assertFalse(cache.add(set, 5));
    assertTrue(cache.add(set, 6), "same set, other state");
    set.add(set.indefiniteBit(0));
    assertTrue(cache.add(set, 5), "differs only in an indefinite operation");
    assertEquals(3, cache.size());
  }

  @Test
  void theSameSetReachedInAnotherOrderIsRecognised() {
    LinearizedSet first = new LinearizedSet(200, 70);
    LinearizedSet second = new LinearizedSet(200, 70);
    int[] bits = {0, 1, 63, 64, 130, first.indefiniteBit(69), first.indefiniteBit(3)};
    for (int bit : bits) {
      first.add(bit);
    }
    second.add(150);
    for (int i = bits.length - 1; i >= 0; i--) {
      second.add(bits[i]);
    }
    second.remove(150);
    assertEquals(first.hash, second.hash);
    ConfigurationCache cache = new ConfigurationCache();
    assertTrue(cache.add(first, 1));
    assertFalse(cache.add(second, 1));
  }

  @Test
  void fullLeadingWordsAreStoredImplicitlyButStillDistinguished() {
    LinearizedSet set = new LinearizedSet(300, 0);
    for (int bit = 0; bit < 192; bit++) {
      set.add(bit);
    }
    assertEquals(3, set.firstNotFullWord());
    assertEquals(2, set.lastNonzeroWord());
    ConfigurationCache cache = new ConfigurationCache();
    assertTrue(cache.add(set, 0));
    set.remove(5);
    assertEquals(0, set.firstNotFullWord());
    assertTrue(cache.add(set, 0), "one operation fewer is another configuration");
    set.add(5);
    set.add(250);
    assertEquals(3, set.firstNotFullWord());
    assertEquals(3, set.lastNonzeroWord());
    assertTrue(cache.add(set, 0));
    set.remove(250);
    assertEquals(2, set.lastNonzeroWord());
    assertFalse(cache.add(set, 0));
  }

  @Test
  void survivesGrowthWithEveryEntry() {
    LinearizedSet set = new LinearizedSet(64, 64);
    ConfigurationCache cache = new ConfigurationCache();
    for (int state = 0; state < 5_000; state++) {
      assertTrue(cache.add(set, state));
    }
    set.add(set.indefiniteBit(7));
    for (int state = 0; state < 5_000; state++) {
      assertTrue(cache.add(set, state));
    }
    set.remove(set.indefiniteBit(7));
    for (int state = 0; state < 5_000; state++) {
      assertFalse(cache.add(set, state));
    }
    assertEquals(10_000, cache.size());
  }

  @Test
  void theSetRejectsAddingTwiceAndRemovingWhatIsAbsent() {
    LinearizedSet set = new LinearizedSet(10, 0);
    set.add(3);
    assertThrows(IllegalStateException.class, () -> set.add(3));
    set.remove(3);
    assertThrows(IllegalStateException.class, () -> set.remove(3));
    assertEquals(0, set.hash);
  }
}
