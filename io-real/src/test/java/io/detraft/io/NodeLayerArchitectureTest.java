package io.detraft.io;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Keeps the node layer (the code both worlds run: {@link Node} and its replicas, {@link
 * NodeStorage}, the WAL, its recovery and format, the snapshot store, the log image) free of
 * threads, clocks, unseeded randomness and any I/O but through the {@link Disk} it is handed.
 * Request outcomes are {@link CompletableFuture}s completed on the node's loop, synchronously:
 * the rule allows that class and no asynchronous stage of it. The real adapters ({@link
 * RealDisk}, {@link TcpTransport}, {@link NodeRunner}) are outside. A planted offender proves
 * the rule bites.
 */
class NodeLayerArchitectureTest {
  private static final List<Class<?>> NODE_LAYER = List.of(Node.class, Replica.class,
      PendingReads.class, NodeStorage.class, Frames.class, WriteAheadLog.class, WalRecovery.class,
      WalFormat.class, SnapshotStore.class, GroupLog.class, Disk.class,
      StorageCorruptionException.class, ProposalException.class, BatchingStateMachine.class);

  private static final DescribedPredicate<JavaClass> IN_NODE_LAYER = DescribedPredicate.describe(
      "in the node layer", c -> NODE_LAYER.stream().anyMatch(n ->
          c.getName().equals(n.getName()) || c.getName().startsWith(n.getName() + "$")));

  private static DescribedPredicate<JavaMethodCall> callTo(Class<?> owner, String... names) {
    List<String> list = List.of(names);
    return DescribedPredicate.describe(owner.getName() + "." + list,
        call -> call.getTargetOwner().isEquivalentTo(owner) && list.contains(call.getName()));
  }

  static ArchRule noThreadsClocksOrDirectIo(DescribedPredicate<JavaClass> classes) {
    return noClasses().that(classes)
      .should().dependOnClassesThat(DescribedPredicate.describe(
          "in java.util.concurrent (but CompletableFuture)", c -> c.getPackageName()
              .startsWith("java.util.concurrent") && !c.isEquivalentTo(CompletableFuture.class)))
      .orShould().dependOnClassesThat().resideInAnyPackage("java.nio.channels..",
          "java.net..", "java.time..")
      .orShould().callMethodWhere(DescribedPredicate.describe("an asynchronous stage",
          call -> call.getTargetOwner().isEquivalentTo(CompletableFuture.class)
              && call.getName().endsWith("Async")))
      .orShould().dependOnClassesThat().belongToAnyOf(Thread.class, Files.class,
          java.io.File.class, java.io.FileInputStream.class, java.io.FileOutputStream.class,
          java.io.RandomAccessFile.class, java.util.Random.class, ProcessBuilder.class)
      .orShould().callMethodWhere(callTo(System.class, "currentTimeMillis", "nanoTime"))
      .orShould().callMethodWhere(callTo(Math.class, "random"))
      .because("the simulator runs this code: all of its I/O goes through Disk");
  }

  @Test
  void theNodeLayerDoesNoIoOfItsOwn() {
    JavaClasses main = new ClassFileImporter()
        .withImportOption(new ImportOption.DoNotIncludeTests())
        .importPackages("io.detraft.io");
    noThreadsClocksOrDirectIo(IN_NODE_LAYER).check(main);
  }

  /** A class that opens a file itself: what the rule must refuse. */
  static final class Offender {
    static void open() throws java.io.IOException {
      FileChannel.open(java.nio.file.Path.of("x")).close();
    }
  }

  @Test
  void theRuleCatchesAPlantedOffender() {
    ArchRule rule = noThreadsClocksOrDirectIo(DescribedPredicate.describe("the offender",
        c -> c.isEquivalentTo(Offender.class)));
    JavaClasses offender = new ClassFileImporter().importClasses(Offender.class);
    assertThrows(AssertionError.class, () -> rule.check(offender));
  }
}
