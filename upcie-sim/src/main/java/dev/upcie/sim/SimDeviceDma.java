package dev.upcie.sim;

import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.model.DeviceDma;
import dev.upcie.sim.model.DmaDirection;
import dev.upcie.sim.model.DmaFault;
import dev.upcie.sim.trace.TraceEvent;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * One device's DMA: checks what the bus and the device allow (removal, bus mastering, the device's
 * mask), then goes through the machine's IOMMU; records every access in the trace and every refusal
 * in the IOMMU's fault log.
 */
final class SimDeviceDma implements DeviceDma {
  private final AttachedDevice device;
  private final SimIommu iommu;
  private final long limit;
  private final MemorySegment scalar = MemorySegment.ofArray(new byte[8]);

  SimDeviceDma(AttachedDevice device, SimIommu iommu, int maskBits) {
    this.device = device;
    this.iommu = iommu;
    this.limit = maskBits == 64 ? -1L : (1L << maskBits) - 1;
  }

  @Override
  public boolean read(long address, MemorySegment destination) {
    return read(address, destination, 0, destination.byteSize());
  }

  @Override
  public boolean write(long address, MemorySegment source) {
    return write(address, source, 0, source.byteSize());
  }

  @Override
  public boolean read(long address, MemorySegment destination, long offset, long length) {
    DmaFault.Reason refused = access(address, destination, offset, length, DmaDirection.READ);
    if (refused != null) {
      destination.asSlice(offset, length).fill((byte) 0);
    }
    return refused == null;
  }

  @Override
  public boolean write(long address, MemorySegment source, long offset, long length) {
    return access(address, source, offset, length, DmaDirection.WRITE) == null;
  }

  // Scalar accesses share one small buffer per device, under its lock: nothing to allocate.
  @Override
  public synchronized int readInt(long address) {
    read(address, scalar, 0, 4);
    return scalar.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
  }

  @Override
  public synchronized long readLong(long address) {
    read(address, scalar, 0, 8);
    return scalar.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
  }

  @Override
  public synchronized boolean writeInt(long address, int value) {
    scalar.set(ValueLayout.JAVA_INT_UNALIGNED, 0, value);
    return write(address, scalar, 0, 4);
  }

  private DmaFault.Reason access(
      long address, MemorySegment buffer, long offset, long size, DmaDirection direction) {
    Objects.checkFromIndexSize(offset, size, buffer.byteSize());
    DmaFault.Reason refused;
    if (device.removed()) {
      refused = DmaFault.Reason.DEVICE_REMOVED;
    } else if (!device.config().isBusMaster()) {
      refused = DmaFault.Reason.BUS_MASTER_OFF;
    } else if (size > 0
        && (Long.compareUnsigned(address, limit) > 0
            || Long.compareUnsigned(address + size - 1, limit) > 0
            || address + size - 1 < address)) {
      refused = DmaFault.Reason.ABOVE_MASK;
    } else {
      refused = iommu.copy(address, buffer, offset, size, direction);
    }
    if (refused == null) {
      device
          .trace()
          .record(
              direction == DmaDirection.READ ? TraceEvent.Kind.DMA_READ : TraceEvent.Kind.DMA_WRITE,
              device.name(),
              address,
              0,
              (int) Math.min(size, Integer.MAX_VALUE));
      return null;
    }
    DmaFault fault =
        new DmaFault(device.address(), address, size, direction, refused, device.nanoTime());
    iommu.record(fault);
    device.trace().record(TraceEvent.Kind.DMA_FAULT, fault, address, 0, (int) size);
    return refused;
  }
}
