package dev.upcie.uio;

import dev.upcie.dma.DmaSpace;
import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.host.Host;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.kernel.Cleanup;
import dev.upcie.kernel.FileConfigSpace;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciResource;
import dev.upcie.support.NotSupportedException;
import dev.upcie.support.Sizes;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import dev.upcie.sys.SystemCalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A PCI function opened through {@code uio_pci_generic}: BARs mapped from the sysfs {@code
 * resourceN} files, configuration space through the sysfs {@code config} file, INTx through {@code
 * /dev/uioN}, DMA by physical address, reset through the sysfs {@code reset} attribute.
 */
final class UioPciDevice implements PciDeviceHandle {
  private static final int BAR_COUNT = 6;

  private final PciFunction function;
  private final Host host;
  private final SystemCalls calls;
  private final String dir;
  private final NativeFd uio;
  private final NativeFd configFd;
  private final Arena arena;
  private final Mmio[] bars = new Mmio[BAR_COUNT];
  private final ConfigSpace config;
  private final UioInterrupts interrupts;
  private final PhysicalDmaSpace dma;
  private volatile boolean closed;

  private UioPciDevice(
      PciFunction function,
      Host host,
      SystemCalls calls,
      NativeFd uio,
      NativeFd configFd,
      int size,
      String uioName,
      Arena arena) {
    this.function = function;
    this.host = host;
    this.calls = calls;
    this.dir = PciBus.dir(function.address());
    this.uio = uio;
    this.configFd = configFd;
    this.arena = arena;
    this.config =
        new FileConfigSpace(
            "config space of " + function.address(), calls, configFd, 0, size, arena);
    this.interrupts =
        new UioInterrupts(
            this, config, uio, uioName, function.address() + " (" + function.id() + ")");
    this.dma = new PhysicalDmaSpace(this, host, 64);
  }

  /** Opens {@code function}, bound to uio_pci_generic with {@code node} as its UIO device. */
  static UioPciDevice open(PciFunction function, Path node, Host host) {
    SystemCalls calls = SystemCalls.of(host);
    Path configPath = host.sysfs().resolve(PciBus.dir(function.address()) + "/config");
    NativeFd uio = null;
    NativeFd config = null;
    Arena arena = Arena.ofShared();
    try {
      uio = openFile(calls, node, Posix.O_RDWR | Posix.O_NONBLOCK, function);
      config = openFile(calls, configPath, Posix.O_RDWR, function);
      int size = (int) Files.size(configPath);
      return new UioPciDevice(
          function, host, calls, uio, config, size, node.getFileName().toString(), arena);
    } catch (IOException | RuntimeException e) {
      arena.close();
      if (config != null) {
        config.close();
      }
      if (uio != null) {
        uio.close();
      }
      if (e instanceof IOException io) {
        throw new UioException(
            "cannot size the config space of " + function.address() + ": " + io, io);
      }
      throw (RuntimeException) e;
    }
  }

  private static NativeFd openFile(SystemCalls calls, Path path, int flags, PciFunction function) {
    try {
      return calls.open(path.toString(), flags);
    } catch (ErrnoException e) {
      throw new UioException(
          "cannot open "
              + path
              + " for "
              + function.address()
              + ": "
              + e.getMessage()
              + (e.is(Errno.EACCES) || e.is(Errno.EPERM) ? "; the uio backend needs root" : ""),
          e);
    }
  }

  @Override
  public PciFunction function() {
    return function;
  }

  @Override
  public String backend() {
    return UioBackend.NAME;
  }

  @Override
  public synchronized Mmio bar(int index) {
    checkOpen();
    if (index < 0 || index >= BAR_COUNT) {
      throw new IllegalArgumentException("BAR index must be 0 to 5: " + index);
    }
    if (bars[index] == null) {
      String name = "BAR" + index + " of " + function.address();
      PciResource resource = resource(index);
      long size = resource.size();
      if (size == 0) {
        throw new PciException(name + " is not implemented by the device");
      }
      if (!resource.isMemory()) {
        throw new PciException(
            name
                + " ("
                + Sizes.human(size)
                + ") cannot be memory-mapped: it is "
                + (resource.isIo() ? "an I/O-port BAR" : "not a memory BAR"));
      }
      Path file = host.sysfs().resolve(dir + "/resource" + index);
      // The file maps from the page holding the BAR's start; a small BAR need not start one.
      long page = Syscalls.pageSize();
      long within = resource.start() & (page - 1);
      MemorySegment mapping;
      try (NativeFd fd = openFile(calls, file, Posix.O_RDWR, function)) {
        mapping = calls.mmap(fd, 0, (within + size + page - 1) & -page, arena);
      } catch (ErrnoException e) {
        throw new PciException("cannot map " + file + ": " + e.getMessage(), e);
      }
      bars[index] = Mmio.of(name, mapping.asSlice(within, size));
    }
    return bars[index];
  }

  /** BAR {@code index} in the sysfs {@code resource} table. */
  private PciResource resource(int index) {
    List<PciResource> table = PciResource.parse(host.sysfs().read(dir + "/resource"));
    return index < table.size() ? table.get(index) : PciResource.NONE;
  }

  @Override
  public ConfigSpace config() {
    checkOpen();
    return config;
  }

  @Override
  public DmaSpace dma() {
    checkOpen();
    return dma;
  }

  @Override
  public Interrupts interrupts() {
    checkOpen();
    return interrupts;
  }

  @Override
  public boolean canReset() {
    // The kernel shows "reset" only for functions with a reset method.
    return host.sysfs().exists(dir + "/reset");
  }

  @Override
  public void reset() {
    checkOpen();
    if (!canReset()) {
      throw new NotSupportedException(
          function.summary()
              + " has no reset method (no "
              + host.sysfs().resolve(dir + "/reset")
              + ": no function-level reset, no power-management reset, no bus reset it may do"
              + " alone)");
    }
    host.sysfs().write(dir + "/reset", "1");
  }

  Host host() {
    return host;
  }

  SystemCalls calls() {
    return calls;
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Stop the device first: without an IOMMU, memory freed after this could still be written.
    Cleanup.all(
        config::disableBusMaster, interrupts::disable, arena::close, configFd::close, uio::close);
  }

  @Override
  public String toString() {
    return "UioPciDevice[" + function.summary() + "]";
  }
}
