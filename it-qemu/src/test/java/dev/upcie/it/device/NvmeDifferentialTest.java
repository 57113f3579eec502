package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.it.device.RandomNvmeCommands.Pointer;
import dev.upcie.it.device.RandomNvmeCommands.Step;
import dev.upcie.it.device.RawNvme.Command;
import dev.upcie.it.device.RawNvme.Completion;
import dev.upcie.junit.PciDevice;
import dev.upcie.junit.PciDeviceSettings;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The simulated NVMe controller against QEMU's, on a seeded random stream of admin and NVM
 * commands, valid and invalid ({@link RandomNvmeCommands}), run one at a time on both and compared
 * per command: the status, completion dword 0, the SQ head, and every byte of the data buffer the
 * commands read into. The namespaces are formatted (zeroed) and their first blocks filled from the
 * seed first. The model is built with the run's {@link NvmeLayout}, the one QEMU was started with.
 *
 * <p>In the VFIO guest the test meets QEMU's controller and builds the model beside it, in the same
 * JVM. (Not on UIO: a random PRP there is a physical address, and would write over the guest.) On
 * the host, where the only controller is the model, the stream runs on the model alone, which must
 * never throw, hang or go fatal.
 *
 * <p>{@code -Dupcie.nvme.differential.commands=N} sets the length (2,000 unless set; {@code
 * ci/nightly} runs 50,000 in one cell and 2,000 in the others, on a fresh seed) and {@code
 * -Dupcie.nvme.differential.seed=S} replays a stream: a divergence prints both. On the Maven
 * command line they reach the guest too.
 *
 * <p>Its invalid commands point at unmapped memory on purpose, so the DMA faults they cause (in the
 * guest's kernel log, and in the model's IOMMU) are what it tests, not a mistake to fail it for.
 */
@PciDeviceSettings(checkDmaFaults = false)
public class NvmeDifferentialTest {
  /** System property: the number of steps. */
  public static final String COMMANDS = "upcie.nvme.differential.commands";

  /** System property: the seed, decimal or 0x-hexadecimal. */
  public static final String SEED = "upcie.nvme.differential.seed";

  /** The seed CI runs, so that a red run replays exactly. */
  public static final String DEFAULT_SEED = "0x20261201";

  private static final long UNMAPPED = 0x40_0000_0000L;
  private static final PciAddress MODEL = PciAddress.parse("0000:00:04.0");

  @Test
  // A step takes about 6 ms in a TCG guest (both controllers), so the nightly's 50,000 about five
  // minutes; the guest's own timeout (upcie.qemu.timeout) is what bounds a run.
  @Timeout(value = 4, unit = TimeUnit.HOURS)
  void theModelAnswersARandomCommandStreamAsQemuDoes(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    long seed = Long.decode(System.getProperty(SEED, DEFAULT_SEED));
    int commands = Integer.getInteger(COMMANDS, 2000);
    boolean againstQemu = !GuestRun.backend().equals("sim");
    String serial = System.getProperty(GuestRun.NVME_SERIAL, NvmeOptions.DEFAULT_SERIAL);
    NvmeLayout layout = NvmeLayout.current();
    NvmeModel model = new NvmeModel(layout.options(serial));
    try (SimMachine machine =
            SimMachine.builder()
                .driver(SimDriver.overrideOnly("vfio-pci"))
                .device(
                    SimFunction.builder(MODEL.toString()).iommuGroup(4).driver("vfio-pci"), model)
                .build();
        PciDeviceHandle simulated = machine.open(MODEL);
        Side reference = new Side(simulated, "model", layout);
        Side qemu = againstQemu ? new Side(nvme, "QEMU", layout) : null) {
      SplittableRandom fill = new SplittableRandom(seed);
      byte[] pattern = new byte[RandomNvmeCommands.DATA];
      fill.nextBytes(pattern);
      reference.fill(pattern);
      if (qemu != null) {
        qemu.fill(pattern);
      }
      RandomNvmeCommands stream = new RandomNvmeCommands(seed, layout);
      for (int i = 0; i < commands; i++) {
        Step step = stream.next();
        String where = "seed 0x" + Long.toHexString(seed) + ", step " + i + ": " + describe(step);
        if (step instanceof Step.Doorbell doorbell) {
          reference.ring(doorbell);
          if (qemu != null) {
            qemu.ring(doorbell);
          }
          continue;
        }
        Step.Command command = (Step.Command) step;
        Completion expected = reference.execute(command, where);
        assertThat(reference.fatal()).as("the model went fatal at %s", where).isFalse();
        stream.completed(command, expected.status());
        if (qemu == null) {
          continue;
        }
        Completion actual = qemu.execute(command, where);
        assertThat(describe(actual))
            .as("QEMU and the model differ at %s", where)
            .isEqualTo(describe(expected));
        long differs = reference.firstDifference(qemu);
        assertThat(differs)
            .as(
                "the data buffers differ at offset 0x%x after %s (model 0x%02x, QEMU 0x%02x)",
                differs,
                where,
                differs < 0 ? 0 : reference.data.segment().get(ValueLayout.JAVA_BYTE, differs),
                differs < 0 ? 0 : qemu.data.segment().get(ValueLayout.JAVA_BYTE, differs))
            .isEqualTo(-1);
      }
      System.out.printf(
          "NVMe differential stream: %d steps of seed 0x%x on %s, layout %s%n",
          commands,
          seed,
          againstQemu ? "the model and QEMU, compared" : "the model alone",
          layout.name());
    }
  }

  private static String describe(Completion c) {
    return String.format(
        "status 0x%04x dw0 0x%x sq head %d sq %d", c.status(), c.dw0(), c.sqHead(), c.sqId());
  }

  private static String describe(Step step) {
    if (step instanceof Step.Command c) {
      StringBuilder text =
          new StringBuilder(
              String.format(
                  "%s queue %d opcode 0x%02x flags 0x%02x nsid 0x%x prp1 %s prp2 %s",
                  c.queue() == 0 ? "admin" : "I/O",
                  c.queue(),
                  c.opcode(),
                  c.flags(),
                  c.nsid(),
                  c.prp1(),
                  c.prp2() instanceof Pointer.List list
                      ? "List[page "
                          + list.page()
                          + " +"
                          + list.offset()
                          + ", "
                          + list.entries().length
                          + " entries]"
                      : c.prp2()));
      for (int i = 10; i < 16; i++) {
        text.append(String.format(" cdw%d 0x%x", i, c.cdw()[i]));
      }
      return text.toString();
    }
    return ((Step.Doorbell) step).description();
  }

  /** One controller with the harness's queues and buffers. */
  private static final class Side implements AutoCloseable {
    private final RawNvme nvme;
    private final RawNvme.Queue io;
    private final Mmio bar0;
    final DmaBuffer data;
    private final DmaBuffer lists;
    private final String name;
    private final NvmeLayout layout;

    private final PciDeviceHandle handle;

    Side(PciDeviceHandle handle, String name, NvmeLayout layout) {
      this.handle = handle;
      this.name = name;
      this.layout = layout;
      this.nvme = new RawNvme(handle, 32);
      this.bar0 = nvme.bar0;
      this.io = nvme.ioQueues(1, 64, 64);
      this.data = nvme.buffer(RandomNvmeCommands.DATA);
      this.lists = nvme.buffer(RandomNvmeCommands.LIST_PAGES * 4096L);
      // Zeroes every block: outside the blocks fill() writes, QEMU's namespaces hold what the guest
      // wrote before the test (fio's fill), and the model's hold zeros.
      format(nvme, layout, name);
      settle(nvme, data, name);
    }

    /** Formats every namespace to the block size the guest gave it, which also zeroes it. */
    private static void format(RawNvme nvme, NvmeLayout layout, String name) {
      for (NvmeLayout.Namespace namespace : layout.namespaces()) {
        Completion done =
            nvme.admin(
                Command.of(NvmeOpcodes.ADMIN_FORMAT_NVM)
                    .nsid(namespace.nsid())
                    .cdw(10, namespace.lbaFormat()));
        if (done.status() != 0) {
          throw new AssertionError(
              name + ": Format NVM of namespace " + namespace.nsid() + ": " + done);
        }
      }
    }

    /**
     * Puts the features a driver or the stream may have changed back to QEMU's defaults: QEMU keeps
     * them across a reset, the guest's kernel driver set some (asynchronous event configuration)
     * before the test took the controller, and the stream sets others (a temperature threshold
     * below the composite temperature raises SMART's critical warning for every later test).
     */
    private static void settle(RawNvme nvme, DmaBuffer data, String name) {
      int[][] features = {{0x0b, 0}, {0x04, 0x157}, {0x04, 1 << 20}, {0x06, 1}, {0x16, 0}};
      for (int[] feature : features) {
        Completion set =
            nvme.admin(
                Command.of(NvmeOpcodes.ADMIN_SET_FEATURES)
                    .prp1(data.deviceAddress().value())
                    .cdw(10, feature[0])
                    .cdw(11, feature[1]));
        if (set.status() != 0) {
          throw new AssertionError(
              name + ": Set Features 0x" + Integer.toHexString(feature[0]) + ": " + set);
        }
      }
    }

    /**
     * Writes {@code pattern} over the first blocks of every namespace, 256 KiB at a time (or what
     * MDTS allows, if less).
     */
    void fill(byte[] pattern) {
      MemorySegment.copy(pattern, 0, data.segment(), ValueLayout.JAVA_BYTE, 0, pattern.length);
      int chunk = (int) Math.min(256 << 10, layout.maxTransferBytes());
      for (NvmeLayout.Namespace namespace : layout.namespaces()) {
        int nsid = namespace.nsid();
        int blockSize = namespace.blockSize();
        for (long at = 0; at < RandomNvmeCommands.FILLED_BYTES; at += chunk) {
          long source = at % RandomNvmeCommands.DATA;
          Pointer[] pages = new Pointer[chunk / 4096 - 1];
          for (int i = 0; i < pages.length; i++) {
            pages[i] = new Pointer.Data(source + 4096L * (i + 1));
          }
          long slba = at / blockSize;
          Completion done =
              io.run(
                  Command.of(NvmeOpcodes.IO_WRITE)
                      .nsid(nsid)
                      .lba(slba, chunk / blockSize)
                      .prp1(resolve(new Pointer.Data(source)))
                      .prp2(resolve(new Pointer.List(0, 0, pages))));
          if (done.status() != 0) {
            throw new AssertionError(name + ": filling namespace " + nsid + ": " + done);
          }
        }
      }
    }

    Completion execute(Step.Command c, String where) {
      if (c.payload() != null && c.prp1() instanceof Pointer.Data target) {
        MemorySegment.copy(
            c.payload(),
            0,
            data.segment(),
            ValueLayout.JAVA_BYTE,
            target.offset(),
            c.payload().length);
      }
      Command command = Command.of(c.opcode()).flags(c.flags()).nsid(c.nsid());
      if (c.prp1() instanceof Pointer.Sgl sgl) {
        command.prp1(descriptorAddress(sgl)).prp2(descriptorWord(sgl));
      } else {
        command.prp1(resolve(c.prp1())).prp2(resolve(c.prp2()));
      }
      for (int i = 10; i < 16; i++) {
        command.cdw(i, c.cdw()[i]);
      }
      RawNvme.Queue queue = c.queue() == 0 ? nvme.admin : io;
      Completion completion;
      try {
        completion = queue.run(command);
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError(name + " did not complete " + where, e);
      }
      forgetWhatMayDiffer(c);
      return completion;
    }

    /**
     * Clears what differs between the two for reasons outside the controllers: the Timestamp
     * feature (each clock) and the SMART log's I/O counters (the guest's kernel read the drive
     * before the test took it).
     */
    private void forgetWhatMayDiffer(Step.Command c) {
      if (c.queue() != 0 || !(c.prp1() instanceof Pointer.Data target)) {
        return;
      }
      int dw10 = c.cdw()[10];
      long at = target.offset();
      if (c.opcode() == NvmeOpcodes.ADMIN_GET_FEATURES && (dw10 & 0xff) == 0x0e) {
        clear(at, 8);
      } else if (c.opcode() == NvmeOpcodes.ADMIN_GET_LOG_PAGE && (dw10 & 0xff) == 0x02) {
        long offset = Integer.toUnsignedLong(c.cdw()[12]);
        // Data units and commands, read and written: log bytes 32 to 95.
        long from = Math.max(32, offset);
        long to = 96;
        if (from < to) {
          clear(at + from - offset, to - from);
        }
      }
    }

    private void clear(long at, long length) {
      long end = Math.min(at + length, data.segment().byteSize());
      if (at < end) {
        data.segment().asSlice(at, end - at).fill((byte) 0);
      }
    }

    void ring(Step.Doorbell doorbell) {
      long offset =
          doorbell.submission()
              ? NvmeRegisters.submissionTailDoorbell(doorbell.qid(), nvme.dstrd)
              : NvmeRegisters.completionHeadDoorbell(doorbell.qid(), nvme.dstrd);
      if (offset + 4 <= bar0.size()) {
        bar0.putIntRelease(offset, doorbell.value());
      }
    }

    boolean fatal() {
      return NvmeRegisters.CSTS_CFS.isSet(bar0.read(NvmeRegisters.CSTS));
    }

    long firstDifference(Side other) {
      return data.segment().mismatch(other.data.segment());
    }

    /** The device address a pointer stands for here; a list is written into the list pages. */
    private long resolve(Pointer pointer) {
      return switch (pointer) {
        case Pointer.Data d -> data.deviceAddress().value() + d.offset();
        case Pointer.Unmapped u -> UNMAPPED;
        case Pointer.Literal l -> l.value();
        case Pointer.List list -> writeList(list);
        case Pointer.Sgl sgl -> descriptorAddress(sgl);
      };
    }

    /** An SGL descriptor's address field; a segment's descriptors are written to its page. */
    private long descriptorAddress(Pointer.Sgl sgl) {
      if (sgl.descriptors() == null) {
        return resolve(sgl.target());
      }
      MemorySegment page = lists.segment().asSlice(sgl.page() * 4096L, 4096);
      for (int i = 0; i < sgl.descriptors().length; i++) {
        Pointer.Sgl d = sgl.descriptors()[i];
        page.set(ValueLayout.JAVA_LONG, i * 16L, descriptorAddress(d));
        page.set(ValueLayout.JAVA_LONG, i * 16L + 8, descriptorWord(d));
      }
      return address(sgl.page());
    }

    /** An SGL descriptor's second half: the length, and the type in the top nibble. */
    private static long descriptorWord(Pointer.Sgl sgl) {
      return (sgl.length() & 0xffff_ffffL) | (long) sgl.type() << 60;
    }

    /**
     * Lays the entries out from the list's page and offset; where the last slot of a page is
     * reached with more than one page of data to go, it chains to the next list page, as QEMU reads
     * it.
     */
    private long writeList(Pointer.List list) {
      MemorySegment pages = lists.segment();
      int page = list.page();
      int slot = list.offset() / 8;
      Pointer[] entries = list.entries();
      for (int i = 0; i < entries.length; i++) {
        boolean lastSlot = slot == 511;
        if (lastSlot && entries.length - i > 1) {
          page++;
          pages.setAtIndex(ValueLayout.JAVA_LONG, (page - 1) * 512L + slot, address(page));
          slot = 0;
        }
        pages.setAtIndex(ValueLayout.JAVA_LONG, page * 512L + slot, resolve(entries[i]));
        slot++;
      }
      return address(list.page()) + list.offset();
    }

    private long address(int page) {
      return lists.deviceAddress().value() + page * 4096L;
    }

    /**
     * Disables the controller, then, through a fresh admin queue (the stream may have left the old
     * one anywhere), formats every namespace back to the block size the guest gave it and puts the
     * features back: the stream's Format NVM and Set Features commands change them, and later test
     * classes meet the same controller, whether the stream passed or stopped half-way.
     */
    @Override
    public void close() {
      nvme.close();
      try (RawNvme fresh = new RawNvme(handle, 2)) {
        format(fresh, layout, name);
        settle(fresh, fresh.buffer(4096), name);
      }
    }
  }
}
