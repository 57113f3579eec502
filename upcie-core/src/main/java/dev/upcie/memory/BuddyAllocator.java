package dev.upcie.memory;

import java.util.Arrays;

/**
 * A binary buddy allocator over {@code units} equal granules: blocks of {@code 2^order} granules,
 * aligned to their size, split on allocation and merged with their buddy on free.
 *
 * <p>Every operation is O(log n) and allocates nothing: the state lives in primitive arrays (about
 * ten bytes per granule) outside the memory it manages, so a device writing into that memory cannot
 * corrupt it. Not thread-safe; {@link DmaHeap} serialises access.
 */
final class BuddyAllocator {
  private static final byte NONE = 0;
  private static final byte FREE = 1;
  private static final byte USED = 2;

  private final int units;
  private final int maxOrder;
  // Per granule: whether a block starts here and its state, and the block's order.
  private final byte[] state;
  private final byte[] order;
  // Free lists per order, doubly linked through the granule index of each block's start.
  private final int[] head;
  private final int[] next;
  private final int[] prev;
  private long freeUnits;

  BuddyAllocator(int units) {
    if (units <= 0) {
      throw new IllegalArgumentException("an allocator needs at least one granule");
    }
    this.units = units;
    this.maxOrder = 31 - Integer.numberOfLeadingZeros(units);
    this.state = new byte[units];
    this.order = new byte[units];
    this.next = new int[units];
    this.prev = new int[units];
    this.head = new int[maxOrder + 1];
    Arrays.fill(head, -1);
    // Cover [0, units) with the largest aligned blocks that fit: a size that is not a power of
    // two becomes several top-level blocks.
    int start = 0;
    while (start < units) {
      int k = start == 0 ? maxOrder : Integer.numberOfTrailingZeros(start);
      while (start + (1 << k) > units) {
        k--;
      }
      push(start, k);
      freeUnits += 1L << k;
      start += 1 << k;
    }
  }

  /** The largest order a block can have here. */
  int maxOrder() {
    return maxOrder;
  }

  /** Granules not allocated. */
  long freeUnits() {
    return freeUnits;
  }

  /** The order of the largest free block, or -1 if nothing is free. */
  int largestFreeOrder() {
    for (int k = maxOrder; k >= 0; k--) {
      if (head[k] >= 0) {
        return k;
      }
    }
    return -1;
  }

  /** Allocates a block of {@code 2^k} granules; returns its first granule, or -1 if none fits. */
  int allocate(int k) {
    if (k < 0 || k > maxOrder) {
      return -1;
    }
    int found = k;
    while (found <= maxOrder && head[found] < 0) {
      found++;
    }
    if (found > maxOrder) {
      return -1;
    }
    int block = pop(found);
    while (found > k) {
      found--;
      push(block + (1 << found), found);
    }
    state[block] = USED;
    order[block] = (byte) k;
    freeUnits -= 1L << k;
    return block;
  }

  /** True if a block allocated by {@link #allocate} starts at granule {@code block}. */
  boolean isAllocated(int block) {
    return block >= 0 && block < units && state[block] == USED;
  }

  /** The order of the allocated block at {@code block}. */
  int orderOf(int block) {
    return order[block];
  }

  /**
   * Frees the block at {@code block} and merges it with free buddies.
   *
   * @throws IllegalStateException if no allocated block starts there
   */
  void free(int block) {
    if (!isAllocated(block)) {
      throw new IllegalStateException("no allocated block at granule " + block);
    }
    int k = order[block];
    state[block] = NONE;
    freeUnits += 1L << k;
    while (k < maxOrder) {
      int buddy = block ^ (1 << k);
      if (buddy + (1 << k) > units || state[buddy] != FREE || order[buddy] != k) {
        break;
      }
      unlink(buddy, k);
      state[buddy] = NONE;
      block = Math.min(block, buddy);
      k++;
    }
    push(block, k);
  }

  private void push(int block, int k) {
    state[block] = FREE;
    order[block] = (byte) k;
    prev[block] = -1;
    next[block] = head[k];
    if (head[k] >= 0) {
      prev[head[k]] = block;
    }
    head[k] = block;
  }

  private int pop(int k) {
    int block = head[k];
    unlink(block, k);
    return block;
  }

  private void unlink(int block, int k) {
    if (prev[block] >= 0) {
      next[prev[block]] = next[block];
    } else {
      head[k] = next[block];
    }
    if (next[block] >= 0) {
      prev[next[block]] = prev[block];
    }
  }
}
