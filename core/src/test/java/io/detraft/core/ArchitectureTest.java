package io.detraft.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Keeps core replayable (DESIGN.md, "Rules that make replay possible"): the main code of
 * {@code io.detraft.core} may not start threads, read a clock, perform I/O, draw unseeded
 * randomness, or use collections whose iteration order changes from run to run. Each rule is
 * also checked against a planted offender below, so a rule that silently matches nothing
 * fails the build.
 */
class ArchitectureTest {
  private static final String CORE = "io.detraft.core..";

  /** Core's production classes only. */
  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(new ImportOption.DoNotIncludeTests())
      .importPackages("io.detraft.core");

  /** A call to one of {@code names} on {@code owner}, whatever the parameter types. */
  private static DescribedPredicate<JavaMethodCall> callTo(Class<?> owner, String... names) {
    List<String> list = Arrays.asList(names);
    return DescribedPredicate.describe(owner.getName() + "." + list,
        call -> call.getTargetOwner().isEquivalentTo(owner) && list.contains(call.getName()));
  }

  static final ArchRule NO_THREADS = noClasses().that().resideInAPackage(CORE)
      .should().dependOnClassesThat().resideInAnyPackage("java.util.concurrent..")
      .orShould().dependOnClassesThat().belongToAnyOf(Thread.class, ThreadGroup.class,
          ThreadLocal.class, InheritableThreadLocal.class)
      .orShould().callMethodWhere(callTo(Object.class, "wait", "notify", "notifyAll"))
      .because("core is single-threaded; the host owns concurrency");

  static final ArchRule NO_CLOCK = noClasses().that().resideInAPackage(CORE)
      .should().dependOnClassesThat().resideInAnyPackage("java.time..")
      .orShould().dependOnClassesThat().belongToAnyOf(java.util.Date.class,
          java.util.Calendar.class, java.util.TimeZone.class)
      .orShould().callMethodWhere(callTo(System.class, "currentTimeMillis", "nanoTime"))
      .because("time in core is counted in ticks the host delivers");

  static final ArchRule NO_IO = noClasses().that().resideInAPackage(CORE)
      .should().dependOnClassesThat().resideInAnyPackage("java.io..", "java.nio..", "java.net..")
      .orShould().dependOnClassesThat().belongToAnyOf(ProcessBuilder.class, Runtime.class)
      .orShould().callMethodWhere(callTo(System.class, "getenv", "getProperty", "getProperties",
          "setProperty", "exit", "load", "loadLibrary", "console", "inheritedChannel"))
      .because("core reads durable state only through LogStorage and speaks only through Ready");

  static final ArchRule NO_UNSEEDED_RANDOMNESS = noClasses().that().resideInAPackage(CORE)
      .should().dependOnClassesThat().belongToAnyOf(java.util.Random.class,
          java.util.SplittableRandom.class, java.security.SecureRandom.class)
      .orShould().callMethodWhere(callTo(Math.class, "random"))
      .orShould().callMethodWhere(callTo(StrictMath.class, "random"))
      .orShould().callMethodWhere(callTo(java.util.UUID.class, "randomUUID"))
      .because("all randomness comes from the injected, seeded Prng");

  /**
   * HashMap/HashSet iteration order depends on hash codes and capacity, and the immutable
   * Set.of/Map.of collections iterate in an order salted per JVM run; either can leak into
   * output (messages, Ready) and break replay. Use TreeMap/TreeSet, sorted arrays or lists.
   * Identity hash codes differ per run too.
   */
  static final ArchRule NO_UNORDERED_COLLECTIONS = noClasses().that().resideInAPackage(CORE)
      .should().dependOnClassesThat().belongToAnyOf(java.util.HashMap.class,
          java.util.HashSet.class, java.util.IdentityHashMap.class,
          java.util.WeakHashMap.class, java.util.Hashtable.class)
      .orShould().callMethodWhere(callTo(Set.class, "of", "copyOf"))
      .orShould().callMethodWhere(callTo(Map.class, "of", "ofEntries", "copyOf"))
      .orShould().callMethodWhere(callTo(java.util.stream.Collectors.class, "toSet", "toMap",
          "toUnmodifiableSet", "toUnmodifiableMap", "groupingBy", "partitioningBy"))
      .orShould().callMethodWhere(callTo(System.class, "identityHashCode"))
      .because("iteration order must not vary between runs of the same seed");

  static final List<ArchRule> RULES = List.of(NO_THREADS, NO_CLOCK, NO_IO,
      NO_UNSEEDED_RANDOMNESS, NO_UNORDERED_COLLECTIONS);

  @Test
  void importsCoreMainClassesOnly() {
    assertTrue(MAIN.contain(Raft.class), "Raft was not imported");
    assertTrue(MAIN.contain(Codec.class), "Codec was not imported");
    assertFalse(MAIN.contain(ArchitectureTest.class), "test classes were imported");
  }

  @Test
  void coreStartsNoThreads() {
    NO_THREADS.check(MAIN);
  }

  @Test
  void coreReadsNoClock() {
    NO_CLOCK.check(MAIN);
  }

  @Test
  void corePerformsNoIo() {
    NO_IO.check(MAIN);
  }

  @Test
  void coreDrawsNoUnseededRandomness() {
    NO_UNSEEDED_RANDOMNESS.check(MAIN);
  }

  @Test
  void coreUsesNoUnorderedCollections() {
    NO_UNORDERED_COLLECTIONS.check(MAIN);
  }

  // ------------------------------------------------------------- planted offenders

  @Test
  void everyRuleCatchesAPlantedOffender() {
    Map<ArchRule, List<Class<?>>> offenders = Map.of(
        NO_THREADS, List.of(Offenders.StartsThread.class, Offenders.UsesExecutor.class,
            Offenders.Waits.class),
        NO_CLOCK, List.of(Offenders.ReadsMillis.class, Offenders.ReadsNanos.class,
            Offenders.UsesInstant.class),
        NO_IO, List.of(Offenders.PrintsToStdout.class, Offenders.UsesNioPath.class,
            Offenders.OpensSocket.class, Offenders.ReadsEnvironment.class,
            Offenders.StartsProcess.class),
        NO_UNSEEDED_RANDOMNESS, List.of(Offenders.UsesRandom.class,
            Offenders.UsesMathRandom.class),
        NO_UNORDERED_COLLECTIONS, List.of(Offenders.UsesHashMap.class,
            Offenders.UsesSetOf.class));
    for (ArchRule rule : RULES) {
      List<Class<?>> classes = offenders.get(rule);
      assertTrue(classes != null, "no planted offender for " + rule.getDescription());
      for (Class<?> offender : classes) {
        JavaClasses imported = new ClassFileImporter().importClasses(offender);
        assertTrue(rule.evaluate(imported).hasViolation(),
            offender.getSimpleName() + " should violate: " + rule.getDescription());
      }
    }
    JavaClasses innocent = new ClassFileImporter().importClasses(Offenders.Innocent.class);
    for (ArchRule rule : RULES) {
      assertFalse(rule.evaluate(innocent).hasViolation(), rule.getDescription());
    }
  }

  /** Never run: each class exists only to be imported and rejected by one rule. */
  @SuppressWarnings("unused")
  static final class Offenders {
    static final class StartsThread {
      void run() {
        new Thread(() -> { }).start();
      }
    }

    static final class UsesExecutor {
      Object pool() {
        return java.util.concurrent.Executors.newSingleThreadExecutor();
      }
    }

    static final class Waits {
      void pause(Object lock) throws InterruptedException {
        lock.wait();
      }
    }

    static final class ReadsMillis {
      long now() {
        return System.currentTimeMillis();
      }
    }

    static final class ReadsNanos {
      long now() {
        return System.nanoTime();
      }
    }

    static final class UsesInstant {
      Object now() {
        return java.time.Instant.EPOCH;
      }
    }

    static final class PrintsToStdout {
      void say() {
        System.out.println("hello");
      }
    }

    static final class UsesNioPath {
      Object path() {
        return java.nio.file.Path.of("x");
      }
    }

    static final class OpensSocket {
      Object socket() {
        return new java.net.Socket();
      }
    }

    static final class ReadsEnvironment {
      String home() {
        return System.getenv("HOME");
      }
    }

    static final class StartsProcess {
      Object process() {
        return new ProcessBuilder("true");
      }
    }

    static final class UsesRandom {
      int draw() {
        return new java.util.Random(1).nextInt();
      }
    }

    static final class UsesMathRandom {
      double draw() {
        return Math.random();
      }
    }

    static final class UsesHashMap {
      Object map() {
        return new java.util.HashMap<Long, Long>();
      }
    }

    static final class UsesSetOf {
      Object set() {
        return Set.of(1L, 2L);
      }
    }

    /** Uses what core may: lists, sorted maps, the seeded Prng, Math.max. */
    static final class Innocent {
      long use() {
        java.util.TreeMap<Long, Long> map = new java.util.TreeMap<>();
        map.put(1L, new Prng(1).nextLong());
        return Math.max(map.firstKey(), List.of(1L).get(0));
      }
    }
  }
}
