package io.detraft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.detraft.core.Entry;
import io.detraft.core.HardState;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {
  private static final WriteAheadLog.Options SMALL = new WriteAheadLog.Options(8192);
  private static final WriteAheadLog.Options ROOMY = new WriteAheadLog.Options(1 << 20);

  @TempDir Path dir;

  static List<Entry> entries(long from, long to, long term, int bytes) {
    List<Entry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      byte[] data = new byte[bytes];
      for (int j = 0; j < bytes; j++) {
        data[j] = (byte) (i * 31 + j);
      }
      out.add(Entry.normal(term, i, data));
    }
    return out;
  }

  @Test
  void recoversEntriesAndHardStatesOfSeveralGroups() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertTrue(wal.recovered().isEmpty());
      wal.append(1, entries(1, 5, 1, 10));
      wal.saveHardState(1, new HardState(1, 7, 3));
      wal.append(2, entries(1, 2, 4, 0));
      wal.saveHardState(2, new HardState(4, 0, 0));
      wal.sync();
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertTrue(wal.tornTail().isEmpty());
      var g1 = wal.recovered().get(1L);
      assertEquals(new HardState(1, 7, 3), g1.hardState());
      assertEquals(entries(1, 5, 1, 10), g1.entries());
      var g2 = wal.recovered().get(2L);
      assertEquals(new HardState(4, 0, 0), g2.hardState());
      assertEquals(entries(1, 2, 4, 0), g2.entries());
    }
  }

  @Test
  void anAppendAtAnEarlierIndexDiscardsTheSuffixOnRecovery() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 6, 1, 3));
      wal.sync();
      wal.append(1, entries(4, 5, 2, 3)); // a new leader overwrote 4..6
      wal.sync();
      wal.append(1, entries(6, 6, 2, 3));
    } // close syncs
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      List<Entry> expected = new ArrayList<>(entries(1, 3, 1, 3));
      expected.addAll(entries(4, 6, 2, 3));
      assertEquals(expected, wal.recovered().get(1L).entries());
      // Writing continues after recovery, in the same segment.
      wal.append(1, entries(7, 7, 2, 3));
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertEquals(7, wal.recovered().get(1L).entries().size());
    }
  }

  @Test
  void rollsOverToNewSegmentsAndRecoversAcrossThem() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      for (long i = 1; i <= 300; i += 10) {
        wal.append(1, entries(i, i + 9, 1, 50));
        wal.saveHardState(1, new HardState(1, 1, i + 9));
        wal.sync();
      }
      assertTrue(wal.segmentCount() > 3, "segments: " + wal.segmentCount());
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      assertEquals(entries(1, 300, 1, 50), wal.recovered().get(1L).entries());
      assertEquals(new HardState(1, 1, 300), wal.recovered().get(1L).hardState());
    }
  }

  @Test
  void compactionDeletesSegmentsOnlyWhenEveryGroupIsPastThem() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      wal.append(2, entries(1, 3, 1, 10)); // group 2 pins the first segment
      wal.saveHardState(2, new HardState(1, 0, 3));
      for (long i = 1; i <= 400; i += 10) {
        wal.append(1, entries(i, i + 9, 1, 50));
        wal.saveHardState(1, new HardState(1, 1, i + 9));
        wal.sync();
      }
      int before = wal.segmentCount();
      wal.compact(1, 350, 1);
      assertEquals(before, wal.segmentCount(), "group 2 still needs the first segment");
      wal.compact(2, 3, 1);
      assertTrue(before >= 5 && wal.segmentCount() <= 2, wal.segmentCount() + " of " + before);
      wal.append(1, entries(401, 410, 1, 50));
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      var g1 = wal.recovered().get(1L);
      assertEquals(350, g1.compactedIndex());
      assertEquals(1, g1.compactedTerm());
      assertEquals(entries(351, 410, 1, 50), g1.entries());
      assertEquals(new HardState(1, 1, 400), g1.hardState());
      var g2 = wal.recovered().get(2L);
      assertEquals(3, g2.compactedIndex());
      assertTrue(g2.entries().isEmpty());
      assertEquals(new HardState(1, 0, 3), g2.hardState());
    }
  }

  @Test
  void anInstalledSnapshotDiscardsTheWholeLogIncludingConflictingEntriesAfterIt()
      throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 30, 1, 8)); // 21..30 conflict with the leader's history
      wal.append(2, entries(1, 3, 1, 8));
      wal.sync();
      wal.installSnapshot(1, 20, 3);
      wal.saveHardState(1, new HardState(3, 0, 20));
      wal.sync();
      assertThrows(IllegalArgumentException.class, () -> wal.append(1, entries(20, 20, 3, 8)));
      wal.append(1, entries(21, 22, 3, 8));
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      var g1 = wal.recovered().get(1L);
      assertEquals(20, g1.compactedIndex());
      assertEquals(3, g1.compactedTerm());
      assertEquals(entries(21, 22, 3, 8), g1.entries());
      assertEquals(entries(1, 3, 1, 8), wal.recovered().get(2L).entries());
      wal.installSnapshot(2, 2, 1); // an install that leaves nothing after it
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertEquals(2, wal.recovered().get(2L).compactedIndex());
      assertTrue(wal.recovered().get(2L).entries().isEmpty());
    }
  }

  @Test
  void segmentsBeforeAnInstalledSnapshotGoOnceCompactionPassesThem() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      for (long i = 1; i <= 100; i += 10) {
        wal.append(1, entries(i, i + 9, 1, 50));
        wal.sync();
      }
      wal.installSnapshot(1, 500, 2);
      for (long i = 501; i <= 700; i += 10) {
        wal.append(1, entries(i, i + 9, 2, 50));
        wal.saveHardState(1, new HardState(2, 0, i + 9));
        wal.sync();
      }
      int before = wal.segmentCount();
      wal.compact(1, 650, 2);
      assertTrue(wal.segmentCount() < before, wal.segmentCount() + " of " + before);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      var g1 = wal.recovered().get(1L);
      assertEquals(650, g1.compactedIndex());
      assertEquals(entries(651, 700, 2, 50), g1.entries());
    }
  }

  @Test
  void aTornFinalRecordIsCutAndReported() throws IOException {
    long goodEnd;
    Path segment;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      goodEnd = wal.writtenOffset();
      wal.append(1, entries(6, 8, 1, 40));
      wal.sync();
      segment = wal.currentSegment();
    }
    // Power loss in the middle of the second batch: its last 30 bytes (its end marker and the
    // end of its last entry) never reached the disk.
    long end = goodEnd + 17 + 3 * (9 + 25 + 40) + 17;
    zero(segment, end - 30, 30);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      WriteAheadLog.TornTail torn = wal.tornTail().orElseThrow();
      assertEquals(segment, torn.file());
      assertEquals(end - 17 - (9 + 25 + 40), torn.offset(), "cut at the start of the torn record");
      assertEquals(entries(1, 7, 1, 40), wal.recovered().get(1L).entries());
      wal.append(1, entries(8, 9, 1, 40));
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertTrue(wal.tornTail().isEmpty(), "the torn bytes were zeroed, not left behind");
      assertEquals(entries(1, 9, 1, 40), wal.recovered().get(1L).entries());
    }
  }

  @Test
  void aTruncatedFileRecoversAndReports() throws IOException {
    Path segment;
    long end;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      segment = wal.currentSegment();
      end = wal.writtenOffset();
    }
    try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      channel.truncate(end - 17 - 10); // the file ends in the middle of the last entry
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertTrue(wal.tornTail().isPresent());
      assertEquals(entries(1, 4, 1, 40), wal.recovered().get(1L).entries());
    }
  }

  @Test
  void aFlippedByteBeforeTheTailRefusesToStartNamingFileAndOffset() throws IOException {
    long firstBatchEnd;
    Path segment;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      firstBatchEnd = wal.writtenOffset();
      wal.append(1, entries(6, 10, 1, 40));
      wal.sync();
      wal.append(1, entries(11, 12, 1, 40));
      wal.sync();
      segment = wal.currentSegment();
    }
    long thirdRecord = 32 + 17 + 2 * (9 + 25 + 40);
    flip(segment, thirdRecord + 20);
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, ROOMY));
    assertEquals(segment, error.file());
    assertEquals(thirdRecord, error.offset());
    assertTrue(error.getMessage().contains(segment.toString()), error.getMessage());
    assertTrue(error.getMessage().contains("offset " + thirdRecord), error.getMessage());
    assertTrue(error.getMessage().contains("batch written after it"), error.getMessage());
    assertTrue(firstBatchEnd > thirdRecord);
  }

  @Test
  void damageFollowedByAnyLaterBatchRefusesEvenWithBatchesMissingBetween() throws IOException {
    long second = 0;
    long fourth = 0;
    Path segment;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      for (int batch = 1; batch <= 4; batch++) {
        if (batch == 2) {
          second = wal.writtenOffset();
        }
        wal.append(1, entries(3 * batch - 2, 3 * batch, 1, 40));
        wal.sync();
        if (batch == 3) {
          fourth = wal.writtenOffset();
        }
      }
      segment = wal.currentSegment();
    }
    // A misdirected write wiped batches 2 and 3, both synced; batch 4 still vouches for them.
    // (Looking only for the next one or two batch numbers, recovery took this for a torn
    // tail and cut batch 4 with them.)
    zero(segment, second, (int) (fourth - second));
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, ROOMY));
    assertEquals(second, error.offset());
    assertTrue(error.getMessage().contains("batch written after it"), error.getMessage());
  }

  @Test
  void aFlippedBitInALastBatchThatReachedTheDiskWholeRefuses() throws IOException {
    long secondBatch;
    Path segment;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      secondBatch = wal.writtenOffset();
      wal.append(1, entries(6, 8, 1, 40));
      wal.sync();
      segment = wal.currentSegment();
    }
    // No later batch vouches for the last one, but its end marker is intact: the batch was
    // written whole, may have been acknowledged, and must not be taken for a torn write.
    long entry7 = secondBatch + 17 + (9 + 25 + 40);
    flip(segment, entry7 + 40);
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, ROOMY));
    assertEquals(segment, error.file());
    assertEquals(entry7, error.offset());
    assertTrue(error.getMessage().contains("reached the disk whole"), error.getMessage());
  }

  @Test
  void aDamagedEndMarkerIsPassedOverWithoutLosingARecord() throws IOException {
    Path segment;
    long firstEnd;
    long end;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      firstEnd = wal.writtenOffset();
      wal.append(1, entries(6, 7, 1, 40));
      wal.sync();
      segment = wal.currentSegment();
      end = wal.writtenOffset();
    }
    flip(segment, firstEnd - 3); // the end marker of a batch followed by another
    flip(segment, end - 3); // and of the last batch
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertTrue(wal.tornTail().isEmpty());
      assertEquals(entries(1, 7, 1, 40), wal.recovered().get(1L).entries());
      wal.append(1, entries(8, 8, 1, 40));
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertEquals(entries(1, 8, 1, 40), wal.recovered().get(1L).entries());
    }
  }

  @Test
  void aLastBatchKeptWithoutItsEndMarkerIsSealedSoLaterDamageRefuses() throws IOException {
    Path segment;
    long end;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.saveHardState(1, new HardState(3, 2, 0));
      wal.append(1, entries(1, 2, 3, 40));
      wal.sync();
      segment = wal.currentSegment();
      end = wal.writtenOffset();
    }
    // The crash came after the batch's records but before its end marker: the records verify,
    // so recovery keeps them, and the node goes on as having voted for 2 in term 3.
    zero(segment, end - 17, 17);
    long entry2 = end - 17 - (9 + 25 + 40);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      assertEquals(new HardState(3, 2, 0), wal.recovered().get(1L).hardState());
      assertEquals(entries(1, 2, 3, 40), wal.recovered().get(1L).entries());
    }
    // Then a bit rots in the batch. Had the open not sealed it, this would pass for a torn
    // write, be cut, and the node would forget its vote; now it refuses, naming the record.
    flip(segment, entry2 + 30);
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, ROOMY));
    assertEquals(segment, error.file());
    assertEquals(entry2, error.offset());
  }

  @Test
  void aBitFlippedOnTheWayFromTheDiskIsReadAgainNotTakenForDamage() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 5, 1, 40));
      wal.sync();
      wal.append(1, entries(6, 8, 1, 40));
      wal.sync();
    }
    // The first read of the segment flips a bit in the last batch; the bytes on disk are fine.
    try (RealDisk real = new RealDisk()) {
      int[] reads = {0};
      Disk flaky = (Disk) Proxy.newProxyInstance(Disk.class.getClassLoader(),
          new Class<?>[] {Disk.class}, (proxy, method, args) -> {
            Object result = method.invoke(real, args);
            if (method.getName().equals("readAll") && reads[0]++ == 0) {
              byte[] bytes = (byte[]) result;
              bytes[32 + 17 + 5 * (9 + 25 + 40) + 17 + 17 + 60] ^= 0x10;
            }
            return result;
          });
      try (WriteAheadLog wal = WriteAheadLog.open(flaky, dir, ROOMY)) {
        assertTrue(wal.tornTail().isEmpty());
        assertEquals(entries(1, 8, 1, 40), wal.recovered().get(1L).entries());
        assertTrue(reads[0] >= 3, "the segment was read again: " + reads[0]);
      }
    }
  }

  @Test
  void damageInASealedSegmentRefusesEvenAtItsEnd() throws IOException {
    Path first;
    long lastRecordInFirst = 0;
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      first = wal.currentSegment();
      for (long i = 1; ; i++) {
        long before = wal.writtenOffset();
        wal.append(1, entries(i, i, 1, 100));
        wal.sync();
        if (!wal.currentSegment().equals(first)) {
          break;
        }
        lastRecordInFirst = before + 17; // each sync starts a batch: BATCH record first
      }
    }
    // The damaged record is the last of its segment, but that segment was synced before the
    // next one began, so this cannot be a torn write.
    flip(first, lastRecordInFirst + 30);
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, SMALL));
    assertEquals(first, error.file());
    assertEquals(lastRecordInFirst, error.offset());
  }

  @Test
  void aMissingMiddleSegmentRefuses() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      for (long i = 1; i <= 300; i += 10) {
        wal.append(1, entries(i, i + 9, 1, 50));
        wal.sync();
      }
    }
    Files.delete(dir.resolve(WalFormat.segmentName(2)));
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, SMALL));
    assertTrue(error.getMessage().contains("segment 2 is missing"), error.getMessage());
  }

  @Test
  void aCommitIndexBeyondTheLogRefuses() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      wal.append(1, entries(1, 2, 1, 1));
      wal.saveHardState(1, new HardState(1, 1, 5));
    }
    var error = assertThrows(StorageCorruptionException.class,
        () -> WriteAheadLog.open(dir, ROOMY));
    assertTrue(error.getMessage().contains("commit index 5"), error.getMessage());
  }

  @Test
  void aSecondWriterOnTheSameDirectoryIsRefused() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, ROOMY)) {
      var error = assertThrows(IOException.class, () -> WriteAheadLog.open(dir, ROOMY));
      assertTrue(error.getMessage().contains("already open"), error.getMessage());
    }
    WriteAheadLog.open(dir, ROOMY).close(); // released on close
  }

  @Test
  void rejectsRecordsLargerThanHalfASegment() throws IOException {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, SMALL)) {
      assertThrows(IllegalArgumentException.class,
          () -> wal.append(1, entries(1, 1, 1, 5000)));
    }
  }

  static void flip(Path file, long offset) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, offset);
      one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
      channel.write(one, offset);
    }
  }

  static void zero(Path file, long offset, int bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(bytes), offset);
    }
  }
}
