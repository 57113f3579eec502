package dev.upcie.nvme.driver;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.support.NotSupportedException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A user-space NVMe driver for one controller, written against the device seam only ({@link
 * PciDeviceHandle}), so it runs unchanged on VFIO, on UIO and on the simulator.
 *
 * <pre>{@code
 * try (PciDeviceHandle device = DeviceBackends.named("vfio").open(selector, Host.system());
 *     NvmeController nvme = NvmeController.open(device);
 *     NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(64));
 *     DmaHeap heap = device.dma().heap(4 << 20);
 *     DmaBuffer buffer = heap.allocate(4096)) {
 *   System.out.println(nvme.identify().modelNumber());
 *   NvmeNamespace ns = nvme.namespace(1);
 *   io.read(ns, 0, (int) (4096 / ns.blockSize()), buffer, 0);
 * }
 * }</pre>
 *
 * <p>{@link #open} brings the controller up as the specification orders it: disable and wait for
 * CSTS.RDY to clear, put the admin queues in DMA memory, enable with CC built from CAP, wait for
 * RDY (CAP.TO's timeout), then Identify Controller and Set Features (Number of Queues). {@link
 * #close()} shuts it down with CC.SHN, then disables it so it no longer touches host memory.
 *
 * <p>Admin commands may come from any thread, one at a time. I/O goes through {@link
 * NvmeQueuePair}s; see there for threads. The driver never binds, unbinds or resets the function on
 * its own: that is the caller's (or {@code upcie devbind}'s) business.
 */
public final class NvmeController implements AutoCloseable {
  /** CNS values of Identify. */
  private static final int CNS_NAMESPACE = 0x00;

  private static final int CNS_CONTROLLER = 0x01;
  private static final int CNS_ACTIVE_NAMESPACES = 0x02;

  /** Feature identifiers this class uses by name. */
  public static final int FEATURE_NUMBER_OF_QUEUES = 0x07;

  private static final int LOG_ERROR = 0x01;
  private static final int LOG_SMART = 0x02;

  /** Bytes of the admin queue's data buffer: room for any log page or Identify structure. */
  private static final int SCRATCH = 64 << 10;

  private final PciDeviceHandle device;
  private final NvmeControllerOptions options;
  private final Mmio bar0;
  private final NvmeCap cap;
  private final NvmeVersion version;
  private final String name;
  private final Poller poller;
  private final long readyTimeoutNanos;
  private final DmaHeap heap;
  private final DmaBuffer scratch;
  private final Set<NvmeQueuePair> queuePairs = new LinkedHashSet<>();
  private final BitSet queueIds = new BitSet();
  private final CommandHistory history;
  private final CommandHistory.Lane adminHistory;

  private QueueRing admin;
  private IdentifyController identify;
  private int grantedQueuePairs;
  private long maxTransferBytes;
  private InterruptMode interruptMode;
  private int interruptVectors;
  private boolean closed;

  private NvmeController(PciDeviceHandle device, NvmeControllerOptions options) {
    this.device = device;
    this.options = options;
    this.name = device.address() + " (" + device.backend() + ")";
    int classCode = device.function().classCode().value();
    if ((classCode >>> 8) != 0x0108) {
      throw new IllegalArgumentException(
          name
              + " is not an NVMe controller: its class is "
              + device.function().classCode().describe()
              + ", not 0108xx (mass storage, non-volatile memory)");
    }
    this.bar0 = device.bar(0);
    long capValue = bar0.read(NvmeRegisters.CAP);
    if (capValue == -1L) {
      throw new NvmeControllerFatalException(
          name + ": CAP reads all ones; the function is not responding (removed, or in reset)");
    }
    this.cap = new NvmeCap(capValue);
    this.version = new NvmeVersion((int) bar0.read(NvmeRegisters.VS));
    if (cap.mpsmin() != 0) {
      throw new NotSupportedException(
          name
              + " needs memory pages of at least "
              + cap.minPageSize()
              + " bytes (CAP.MPSMIN); this driver uses 4096-byte pages");
    }
    if ((cap.css() & 0x1) == 0) {
      throw new NotSupportedException(
          name
              + String.format(" does not support the NVM command set (CAP.CSS 0x%02x)", cap.css()));
    }
    if (options.adminQueueDepth() > cap.mqes() + 1) {
      throw new IllegalArgumentException(
          "adminQueueDepth "
              + options.adminQueueDepth()
              + " exceeds what "
              + name
              + " supports, "
              + (cap.mqes() + 1)
              + " entries (CAP.MQES)");
    }
    this.readyTimeoutNanos = options.readyTimeout().orElse(cap.readyTimeout()).toNanos();
    this.poller = new Poller(options.clock(), bar0, name);
    this.history =
        options.historySize() == 0
            ? null
            : new CommandHistory(options.historySize(), options.clock());
    // One admin lane for the controller's life: its history survives reset().
    this.adminHistory = history == null ? null : history.lane(0);
    device.config().enableBusMaster();
    this.heap = device.dma().heap(2 << 20);
    try {
      this.scratch = heap.allocate(SCRATCH, QueueRing.PAGE, DmaBuffer.Scope.SHARED);
      bringUp();
    } catch (RuntimeException e) {
      try {
        disableQuietly();
        if (admin != null) {
          admin.free();
        }
        heap.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Brings up the controller of {@code device} with {@link NvmeControllerOptions#defaults()}.
   *
   * @throws IllegalArgumentException if the function is not an NVMe controller
   * @throws NvmeTimeoutException if it does not become ready in time
   * @throws NvmeControllerFatalException if it reports a fatal status
   * @throws NvmeCommandException if Identify or Set Features fails
   */
  public static NvmeController open(PciDeviceHandle device) {
    return open(device, NvmeControllerOptions.defaults());
  }

  /** Brings up the controller of {@code device} with {@code options}; see {@link #open}. */
  public static NvmeController open(PciDeviceHandle device, NvmeControllerOptions options) {
    return new NvmeController(device, options);
  }

  private void bringUp() {
    disable();
    admin =
        new QueueRing(
            0,
            options.adminQueueDepth(),
            1,
            bar0,
            cap.dstrd(),
            heap,
            DmaBuffer.Scope.SHARED,
            adminHistory);
    int entries = options.adminQueueDepth() - 1;
    bar0.write(NvmeRegisters.AQA, entries | (long) entries << 16);
    bar0.write(NvmeRegisters.ASQ, admin.submissionQueueAddress());
    bar0.write(NvmeRegisters.ACQ, admin.completionQueueAddress());
    long cc = 0;
    cc = NvmeRegisters.CC_CSS.set(cc, 0); // the NVM command set
    cc = NvmeRegisters.CC_MPS.set(cc, 0); // 4 KiB pages
    cc = NvmeRegisters.CC_AMS.set(cc, 0); // round robin
    cc = NvmeRegisters.CC_IOSQES.set(cc, 6);
    cc = NvmeRegisters.CC_IOCQES.set(cc, 4);
    cc = NvmeRegisters.CC_EN.set(cc, 1);
    bar0.write(NvmeRegisters.CC, cc);
    poller.awaitReady(true, readyTimeoutNanos, "CSTS.RDY = 1 after CC.EN = 1");
    identify = IdentifyController.decode(identify(CNS_CONTROLLER, 0));
    maxTransferBytes =
        Math.min(options.maxTransferBytes(), identify.maxTransferBytes(cap.minPageSize()));
    int asked = options.ioQueuePairs();
    int count = asked - 1;
    int granted = setFeature(FEATURE_NUMBER_OF_QUEUES, 0, count | count << 16, false);
    grantedQueuePairs = Math.min(asked, Math.min(granted & 0xffff, granted >>> 16) + 1);
  }

  /** Clears CC.EN and waits for CSTS.RDY to clear; first waits out a controller becoming ready. */
  private void disable() {
    long cc = bar0.read(NvmeRegisters.CC);
    if (NvmeRegisters.CC_EN.isSet(cc)) {
      long csts = bar0.read(NvmeRegisters.CSTS);
      if (!NvmeRegisters.CSTS_RDY.isSet(csts) && !NvmeRegisters.CSTS_CFS.isSet(csts)) {
        // Disabling a controller that is still becoming ready is undefined; let it finish.
        try {
          poller.awaitReady(true, readyTimeoutNanos, "CSTS.RDY = 1 before disabling");
        } catch (NvmeException e) {
          // Disable anyway: that is the way out of most states.
        }
      }
      bar0.write(NvmeRegisters.CC, NvmeRegisters.CC_EN.set(cc, 0));
    }
    poller.awaitReady(false, readyTimeoutNanos, "CSTS.RDY = 0 after CC.EN = 0");
  }

  private void disableQuietly() {
    try {
      disable();
    } catch (RuntimeException e) {
      // The caller is already failing; the device is closed next.
    }
  }

  /** The function this controller drives. */
  public PciDeviceHandle device() {
    return device;
  }

  /** The options it was opened with. */
  public NvmeControllerOptions options() {
    return options;
  }

  /** CAP, read at open. */
  public NvmeCap capabilities() {
    return cap;
  }

  /** VS, read at open. */
  public NvmeVersion version() {
    return version;
  }

  /** Identify Controller, read at open (and again at {@link #reset()}). */
  public synchronized IdentifyController identify() {
    checkOpen();
    return identify;
  }

  /** The I/O queue pairs the controller granted (at most what the options asked for). */
  public synchronized int grantedQueuePairs() {
    checkOpen();
    return grantedQueuePairs;
  }

  /** The largest transfer one I/O command may move: MDTS, capped by the options. */
  public synchronized long maxTransferBytes() {
    checkOpen();
    return maxTransferBytes;
  }

  /** The active namespace ids, ascending (Identify CNS 02h). */
  public synchronized List<Integer> activeNamespaces() {
    MemorySegment list = identify(CNS_ACTIVE_NAMESPACES, 0);
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 1024; i++) {
      int nsid = list.get(ValueLayout.JAVA_INT, 4L * i);
      if (nsid == 0) {
        break;
      }
      ids.add(nsid);
    }
    return ids;
  }

  /**
   * Identify Namespace (CNS 00h) of {@code nsid}, decoded. An inactive namespace comes back with
   * {@link IdentifyNamespace#active()} false, as the controller reports it.
   *
   * @throws NvmeCommandException if the controller refuses the id (Invalid Namespace or Format)
   */
  public synchronized IdentifyNamespace identifyNamespace(int nsid) {
    return IdentifyNamespace.decode(nsid, identify(CNS_NAMESPACE, nsid));
  }

  /**
   * Namespace {@code nsid}, for I/O.
   *
   * @throws IllegalArgumentException if it is not active on this controller, naming the ones that
   *     are
   * @throws NotSupportedException if it is formatted with metadata, which this driver does not move
   */
  public synchronized NvmeNamespace namespace(int nsid) {
    checkOpen();
    if (nsid == 0 || nsid == NvmeCommandDescriptor.NSID_BROADCAST) {
      throw new IllegalArgumentException(
          "namespace id " + Integer.toUnsignedString(nsid) + " names no single namespace");
    }
    IdentifyNamespace ns;
    try {
      ns = identifyNamespace(nsid);
    } catch (NvmeCommandException e) {
      throw new IllegalArgumentException(
          "namespace "
              + Integer.toUnsignedString(nsid)
              + " does not exist on "
              + name
              + " ("
              + e.statusName()
              + "); active namespaces: "
              + activeNamespaces(),
          e);
    }
    if (!ns.active()) {
      throw new IllegalArgumentException(
          "namespace "
              + Integer.toUnsignedString(nsid)
              + " is not active on "
              + name
              + "; active namespaces: "
              + activeNamespaces());
    }
    if (ns.format().metadataSize() != 0) {
      throw new NotSupportedException(
          "namespace "
              + nsid
              + " of "
              + name
              + " is formatted with "
              + ns.format().metadataSize()
              + " bytes of metadata per block; this driver moves data only");
    }
    return new NvmeNamespace(this, ns);
  }

  /**
   * Get Features: the value of feature {@code fid} (Dword 0 of the completion). Features that also
   * return a data structure (LBA Range Type, Timestamp, Host Behavior, ...) write it to the admin
   * queue's own buffer, never to address 0; {@link #getFeatureData} returns it.
   *
   * @param select 0 current, 1 default, 2 saved, 3 supported capabilities
   * @param nsid the namespace for namespace-specific features, else 0
   * @param cdw11 feature-specific (the vector for Interrupt Vector Configuration, say)
   */
  public synchronized int getFeature(int fid, int select, int nsid, int cdw11) {
    checkSelect(select);
    return adminCommand(
        NvmeOpcodes.ADMIN_GET_FEATURES,
        nsid,
        scratch,
        QueueRing.PAGE,
        (fid & 0xff) | select << 8,
        cdw11,
        0);
  }

  /**
   * Get Features for a feature that returns a data structure: its first {@code length} bytes (4 to
   * 4096), as the controller wrote them.
   */
  public synchronized byte[] getFeatureData(int fid, int select, int nsid, int cdw11, int length) {
    if (length < 1 || length > QueueRing.PAGE) {
      throw new IllegalArgumentException(
          "a feature's data is 1 to " + QueueRing.PAGE + " bytes, not " + length);
    }
    getFeature(fid, select, nsid, cdw11);
    return scratch.segment().asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
  }

  private static void checkSelect(int select) {
    if (select < 0 || select > 3) {
      throw new IllegalArgumentException(
          "select is 0 (current), 1 (default), 2 (saved) or 3 (capabilities), not " + select);
    }
  }

  /**
   * Set Features: sets feature {@code fid} to {@code cdw11}; returns Dword 0 of the completion. A
   * feature that takes a data structure is given zeroes; use {@link #setFeature(int, int, int,
   * boolean, byte[])} to give it one.
   *
   * @param save true to ask the controller to keep it across resets (SV)
   */
  public synchronized int setFeature(int fid, int nsid, int cdw11, boolean save) {
    return setFeature(fid, nsid, cdw11, save, new byte[0]);
  }

  /**
   * Set Features with a data structure ({@code data}, at most 4096 bytes, zero-padded), for
   * features such as Timestamp and Host Behavior Support.
   */
  public synchronized int setFeature(int fid, int nsid, int cdw11, boolean save, byte[] data) {
    if (data.length > QueueRing.PAGE) {
      throw new IllegalArgumentException(
          "a feature's data is at most " + QueueRing.PAGE + " bytes, not " + data.length);
    }
    checkOpen();
    MemorySegment page = scratch.segment().asSlice(0, QueueRing.PAGE);
    page.fill((byte) 0);
    MemorySegment.copy(data, 0, page, ValueLayout.JAVA_BYTE, 0, data.length);
    return executeWithData(
        NvmeOpcodes.ADMIN_SET_FEATURES,
        nsid,
        scratch,
        QueueRing.PAGE,
        scratch.deviceAddressValue(0),
        (fid & 0xff) | (save ? 1 << 31 : 0),
        cdw11,
        0);
  }

  /**
   * Get Log Page: {@code length} bytes (a multiple of 4, up to 64 KiB) of log {@code lid} for
   * {@code nsid} (the broadcast id 0xffffffff for the controller as a whole).
   */
  public synchronized byte[] logPage(int lid, int nsid, int length) {
    if (length <= 0 || length % 4 != 0 || length > SCRATCH) {
      throw new IllegalArgumentException(
          "a log page read is 4 to " + SCRATCH + " bytes, a multiple of 4, not " + length);
    }
    int dwords = length / 4 - 1;
    adminCommand(
        NvmeOpcodes.ADMIN_GET_LOG_PAGE,
        nsid,
        scratch,
        length,
        (lid & 0xff) | (dwords & 0xffff) << 16,
        dwords >>> 16,
        0);
    return scratch.segment().asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
  }

  /** The SMART / Health Information log of the whole controller. */
  public synchronized SmartLog smartLog() {
    return SmartLog.decode(
        MemorySegment.ofArray(
            logPage(LOG_SMART, NvmeCommandDescriptor.NSID_BROADCAST, SmartLog.SIZE)));
  }

  /**
   * The Error Information log's non-empty entries, newest first; at most {@code max}, and at most
   * as many as the controller keeps (ELPE + 1).
   */
  public synchronized List<ErrorLogEntry> errorLog(int max) {
    int entries = Math.min(Math.min(max, identify.errorLogEntries() + 1), SCRATCH / 64);
    if (entries <= 0) {
      return List.of();
    }
    MemorySegment page = MemorySegment.ofArray(logPage(LOG_ERROR, 0, entries * ErrorLogEntry.SIZE));
    List<ErrorLogEntry> found = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      ErrorLogEntry entry = ErrorLogEntry.decode(page, (long) i * ErrorLogEntry.SIZE);
      if (!entry.isEmpty()) {
        found.add(entry);
      }
    }
    return found;
  }

  /** A polled, confined queue pair of {@link QueuePairOptions#DEFAULT}'s depth. */
  public NvmeQueuePair createQueuePair() {
    return createQueuePair(QueuePairOptions.DEFAULT);
  }

  /**
   * Creates an I/O queue pair: Create I/O CQ, then Create I/O SQ on it, with the lowest free queue
   * id. Its memory is allocated on the calling thread (see {@link QueuePairOptions#shared()}).
   *
   * @throws IllegalStateException if every granted queue pair is in use
   * @throws IllegalArgumentException if the depth exceeds CAP.MQES + 1
   * @throws NotSupportedException if interrupts are asked for and no vector is left
   */
  public synchronized NvmeQueuePair createQueuePair(QueuePairOptions queueOptions) {
    checkOpen();
    if (queueOptions.depth() > cap.mqes() + 1) {
      throw new IllegalArgumentException(
          "a queue pair of "
              + queueOptions.depth()
              + " entries is deeper than "
              + name
              + " allows, "
              + (cap.mqes() + 1)
              + " (CAP.MQES)");
    }
    int qid = queueIds.nextClearBit(1);
    if (qid > grantedQueuePairs) {
      throw new IllegalStateException(
          "all "
              + grantedQueuePairs
              + " I/O queue pairs "
              + name
              + " granted are in use; close one first (or ask for more with"
              + " NvmeControllerOptions.ioQueuePairs)");
    }
    int vector = -1;
    if (queueOptions.interrupts()) {
      vector = interruptVectorFor(qid);
    }
    long pages = (maxTransferBytes + QueueRing.PAGE - 1) / QueueRing.PAGE;
    int listPages = (int) Math.max(1, (pages - 1 + 510) / 511);
    int slots = queueOptions.depth() - 1;
    long memory =
        (long) queueOptions.depth() * 80
            + (long) slots * listPages * QueueRing.PAGE
            + 4L * QueueRing.PAGE;
    DmaHeap queueHeap = device.dma().heap(memory);
    CommandHistory.Lane lane = history == null ? null : history.lane(qid);
    QueueRing ring = null;
    try {
      ring =
          new QueueRing(
              qid,
              queueOptions.depth(),
              listPages,
              bar0,
              cap.dstrd(),
              queueHeap,
              queueOptions.shared() ? DmaBuffer.Scope.SHARED : DmaBuffer.Scope.CONFINED,
              lane);
      int size = queueOptions.depth() - 1;
      int cqFlags = 0x1 | (vector >= 0 ? 0x2 | vector << 16 : 0);
      adminCommand(
          NvmeOpcodes.ADMIN_CREATE_CQ, 0, ring.completionQueueAddress(), qid | size << 16, cqFlags);
      try {
        adminCommand(
            NvmeOpcodes.ADMIN_CREATE_SQ,
            0,
            ring.submissionQueueAddress(),
            qid | size << 16,
            0x1 | qid << 16);
      } catch (RuntimeException e) {
        deleteQuietly(NvmeOpcodes.ADMIN_DELETE_CQ, qid, e);
        throw e;
      }
    } catch (RuntimeException e) {
      retire(lane);
      try {
        if (ring != null) {
          ring.free();
        }
        queueHeap.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    queueIds.set(qid);
    NvmeQueuePair pair =
        new NvmeQueuePair(
            this,
            ring,
            queueHeap,
            poller,
            vector >= 0 ? device.interrupts() : null,
            vector,
            queueOptions,
            options.commandTimeout().toNanos(),
            maxTransferBytes);
    queuePairs.add(pair);
    return pair;
  }

  /** Enables interrupts on first use and picks the vector for queue {@code qid}. */
  private int interruptVectorFor(int qid) {
    Interrupts irqs = device.interrupts();
    if (interruptMode == null) {
      List<InterruptMode> modes = irqs.modes();
      if (modes.isEmpty()) {
        throw new NotSupportedException(
            name + " offers no interrupts; create the queue pair polled");
      }
      InterruptMode mode = modes.get(0);
      int count =
          mode == InterruptMode.MSIX ? Math.min(irqs.vectors(mode), grantedQueuePairs + 1) : 1;
      irqs.enable(mode, count);
      interruptMode = mode;
      interruptVectors = count;
    }
    if (interruptMode == InterruptMode.MSIX && qid < interruptVectors) {
      return qid; // vector 0 is the admin queue's
    }
    for (NvmeQueuePair pair : queuePairs) {
      if (pair.vector() == 0) {
        throw new NotSupportedException(
            name
                + " has "
                + interruptVectors
                + " "
                + interruptMode
                + " vector(s), all in use (queue pair "
                + pair.id()
                + " has vector 0); create this queue pair polled");
      }
    }
    return 0;
  }

  /**
   * Deletes queue pair {@code pair} on the controller (Delete I/O SQ, then CQ); the controller
   * aborts what was outstanding. Called by {@link NvmeQueuePair#close()}.
   */
  synchronized void deleteQueuePair(NvmeQueuePair pair) {
    if (!queuePairs.remove(pair)) {
      return; // lost to a reset or a close: nothing on the controller
    }
    queueIds.clear(pair.id());
    if (closed) {
      return;
    }
    try {
      adminCommand(NvmeOpcodes.ADMIN_DELETE_SQ, 0, 0, pair.id(), 0);
    } finally {
      try {
        adminCommand(NvmeOpcodes.ADMIN_DELETE_CQ, 0, 0, pair.id(), 0);
      } finally {
        retire(pair.history());
      }
    }
  }

  private void retire(CommandHistory.Lane lane) {
    if (lane != null) {
      history.retire(lane);
    }
  }

  private void deleteQuietly(int opcode, int qid, RuntimeException failure) {
    try {
      adminCommand(opcode, 0, 0, qid, 0);
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Resets the controller: disables it (which deletes every I/O queue on it and drops whatever was
   * outstanding), then brings it up again. Queue pairs made before are lost: their calls throw
   * {@link IllegalStateException}, and each must still be closed (on its thread) to free its
   * memory. Data on the namespaces stays.
   */
  public synchronized void reset() {
    checkOpen();
    loseQueuePairs("the controller was reset");
    disable();
    admin.free();
    admin = null;
    bringUp();
  }

  private void loseQueuePairs(String why) {
    for (NvmeQueuePair pair : queuePairs) {
      pair.lose(why);
      retire(pair.history());
    }
    queuePairs.clear();
    queueIds.clear();
  }

  /**
   * Shuts the controller down (CC.SHN normal, waiting for CSTS.SHST complete), disables it so it no
   * longer touches host memory, and frees the admin queues. Queue pairs still open are lost (and
   * freed, where this thread may); the device handle stays open. Closing twice does nothing.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    List<NvmeQueuePair> open = new ArrayList<>(queuePairs);
    loseQueuePairs("the controller was closed");
    closed = true;
    RuntimeException failure = null;
    try {
      long cc = bar0.read(NvmeRegisters.CC);
      if (cc != 0xffffffffL && NvmeRegisters.CC_EN.isSet(cc)) {
        bar0.write(NvmeRegisters.CC, NvmeRegisters.CC_SHN.set(cc, 1));
        poller.awaitShutdown(readyTimeoutNanos);
      }
      disable();
    } catch (RuntimeException e) {
      failure = e;
    }
    for (NvmeQueuePair pair : open) {
      try {
        pair.freeIfThisThreadMay();
      } catch (RuntimeException e) {
        failure = collect(failure, e);
      }
    }
    try {
      admin.free();
      heap.close();
    } catch (RuntimeException e) {
      failure = collect(failure, e);
    }
    if (interruptMode != null) {
      try {
        device.interrupts().disable();
      } catch (RuntimeException e) {
        failure = collect(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException collect(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /**
   * The controller's most recent commands, oldest first, across the admin queue and every I/O queue
   * pair (closed ones included): at most {@link NvmeControllerOptions#historySize()}, none if that
   * is 0. Each says when it was submitted, where, what it was, and how it ended, or that it is
   * outstanding or timed out. It stays readable after {@link #close()}, for a failure report:
   *
   * <pre>{@code
   * try {
   *   io.read(ns, lba, blocks, buffer, 0);
   * } catch (NvmeException e) {
   *   nvme.history().forEach(System.err::println);
   *   // +0.004 ms  q0 cid 0  Identify (nsid 0, cdw10 0x1) -> Successful Completion (0x0000) in 9 µs
   *   // ...
   *   // +8.377 ms  q1 cid 3  Read (nsid 1, slba 0x100, 8 blocks) -> timed out
   *   throw e;
   * }
   * }</pre>
   *
   * <p>Recording costs each command a few stores into arrays of its queue, written by the queue's
   * own thread without locks; so while queue pairs run on other threads this is a close picture,
   * not an exact one (a command just completed may still show as outstanding). Read it when they
   * are idle, as after a failure, for an exact one.
   */
  public List<NvmeCommandRecord> history() {
    return history == null ? List.of() : history.records();
  }

  /** True once closed. */
  public synchronized boolean isClosed() {
    return closed;
  }

  synchronized void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the NVMe controller " + name + " is closed");
    }
  }

  String name() {
    return name;
  }

  private MemorySegment identify(int cns, int nsid) {
    adminCommand(NvmeOpcodes.ADMIN_IDENTIFY, nsid, scratch, 4096, cns, 0, 0);
    return scratch.segment().asSlice(0, 4096);
  }

  /** An admin command without data, with PRP1 given (queue creation); returns Dword 0. */
  private int adminCommand(int opcode, int nsid, long prp1, int cdw10, int cdw11) {
    return execute(opcode, nsid, prp1, 0, cdw10, cdw11, 0);
  }

  /** An admin command moving {@code length} bytes of {@code data}; returns Dword 0. */
  private int adminCommand(
      int opcode, int nsid, DmaBuffer data, int length, int cdw10, int cdw11, int cdw12) {
    checkOpen();
    long prp1 = data == null ? 0 : data.deviceAddressValue(0);
    if (data != null) {
      data.segment().asSlice(0, length).fill((byte) 0);
    }
    return executeWithData(opcode, nsid, data, length, prp1, cdw10, cdw11, cdw12);
  }

  private int executeWithData(
      int opcode,
      int nsid,
      DmaBuffer data,
      int length,
      long prp1,
      int cdw10,
      int cdw11,
      int cdw12) {
    checkOpen();
    int cid = admin.acquire(0, opcode, nsid, 0, 0, poller.clock().nanoTime());
    long prp2 = data == null ? 0 : admin.mapPrps(cid, data, 0, length, prp1);
    return run(cid, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12);
  }

  private int execute(int opcode, int nsid, long prp1, long prp2, int cdw10, int cdw11, int cdw12) {
    checkOpen();
    int cid = admin.acquire(0, opcode, nsid, 0, 0, poller.clock().nanoTime());
    return run(cid, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12);
  }

  private int run(
      int cid, int opcode, int nsid, long prp1, long prp2, int cdw10, int cdw11, int cdw12) {
    admin.place(cid, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12, 0, 0, 0);
    admin.ringSubmission();
    String what = admin.describe(cid);
    long timeout = options.commandTimeout().toNanos();
    while (admin.isOutstanding(cid)) {
      if (!poller.awaitCompletion(admin, timeout, null, 0, false, what + " on the admin queue")) {
        admin.abandon(cid);
        throw new NvmeTimeoutException(
            what
                + " on the admin queue of "
                + name
                + " did not complete within "
                + options.commandTimeout().toMillis()
                + " ms; reset the controller before freeing memory it was given");
      }
      admin.reap(Integer.MAX_VALUE, null);
    }
    if (admin.status(cid) != 0) {
      throw new NvmeCommandException(what, 0, admin.status(cid));
    }
    return admin.result(cid);
  }

  @Override
  public String toString() {
    return "NvmeController[" + name + (closed ? ", closed" : "") + "]";
  }
}
