package io.detraft.sim;

import java.util.Arrays;

/**
 * The simulator's agenda: a binary min-heap of {@link Event}s ordered by (time, sequence). The
 * sequence number is assigned at scheduling, so events at the same virtual time run in the
 * order they were scheduled: ties never depend on heap layout, hashing or identity.
 */
final class EventQueue {
  private Event[] heap = new Event[1024];
  private int size;
  private long nextSequence;

  /** Schedules an event; its sequence number makes the order total. */
  void add(Event event) {
    event.sequence = nextSequence++;
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    int i = size++;
    // Sift up.
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      Event p = heap[parent];
      if (!before(event, p)) {
        break;
      }
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  /** Removes and returns the earliest event, or null if none is left. */
  Event poll() {
    if (size == 0) {
      return null;
    }
    Event first = heap[0];
    Event last = heap[--size];
    heap[size] = null;
    if (size > 0) {
      // Sift down.
      int i = 0;
      int half = size >>> 1;
      while (i < half) {
        int child = 2 * i + 1;
        int right = child + 1;
        if (right < size && before(heap[right], heap[child])) {
          child = right;
        }
        if (!before(heap[child], last)) {
          break;
        }
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return first;
  }

  int size() {
    return size;
  }

  private static boolean before(Event a, Event b) {
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
  }
}
