package dev.upcie.memory;

/**
 * A DMA heap's figures at one moment.
 *
 * @param capacity bytes in all regions
 * @param free bytes not allocated (allocation rounds up to powers of two of the granule)
 * @param largestFree the largest block one allocation could get
 * @param buffers buffers allocated and not yet freed
 */
public record DmaHeapStats(long capacity, long free, long largestFree, long buffers) {}
