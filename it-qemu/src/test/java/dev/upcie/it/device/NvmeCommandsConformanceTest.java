package dev.upcie.it.device;

import static dev.upcie.nvme.NvmeStatus.DNR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertAll;

import dev.upcie.it.device.RawNvme.Command;
import dev.upcie.it.device.RawNvme.Completion;
import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.NvmeOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulated NVMe controller against QEMU 7.2's, command by command: the same raw commands,
 * written into queues in DMA memory through the device seam, must complete with the same statuses
 * and data on both. On the simulator the test meets {@link dev.upcie.sim.nvme.NvmeModel} with its
 * default options; in the guests it meets QEMU's {@code nvme} with the run's {@link NvmeLayout} (by
 * default the model's: namespace 1 of 512-byte blocks, namespace 2 of 4 KiB blocks, 64 MiB each),
 * which the expectations follow. Error paths are probed as much as the happy path. Where the two
 * differ, the model is wrong.
 */
public class NvmeCommandsConformanceTest {
  private static final NvmeLayout LAYOUT = NvmeLayout.current();

  /** The namespace of 512-byte blocks, where a test needs transfers smaller than a page. */
  private static final NvmeLayout.Namespace SMALL = LAYOUT.withBlockSize(512);

  /** The namespace of 4 KiB blocks. */
  private static final NvmeLayout.Namespace LARGE = LAYOUT.withBlockSize(4096);

  /** A namespace identifier nothing is attached to. */
  private static final int INACTIVE = LAYOUT.inactiveNsid();

  /**
   * The "Done when" of the simulated controller: a driver-style bring-up (disable, admin queues,
   * enable, identify, an I/O queue pair, write, read back) passes with the same code on both.
   */
  @Test
  void driverStyleBringUpWritesAndReadsBack(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      DmaBuffer identify = controller.buffer(4096);
      Completion id = controller.admin(identify(1, 0, identify));
      assertThat(id.status()).as("Identify Controller: %s", id).isZero();
      MemorySegment data = identify.segment();
      assertThat(ascii(data, 4, 20))
          .as("serial")
          .isEqualTo(System.getProperty(GuestRun.NVME_SERIAL, NvmeOptions.DEFAULT_SERIAL));
      assertThat(ascii(data, 24, 40)).as("model").isEqualTo("QEMU NVMe Ctrl");
      assertThat(data.get(ValueLayout.JAVA_BYTE, 77)).as("MDTS").isEqualTo((byte) LAYOUT.mdts());

      Completion list = controller.admin(identify(2, 0, identify));
      assertThat(list.status()).isZero();
      List<Integer> nsids = LAYOUT.nsids();
      for (int i = 0; i < nsids.size(); i++) {
        assertThat(data.get(ValueLayout.JAVA_INT, 4L * i))
            .as("active namespace %d of %d", i + 1, nsids.size())
            .isEqualTo(nsids.get(i));
      }
      assertThat(data.get(ValueLayout.JAVA_INT, 4L * nsids.size())).as("no more").isZero();

      RawNvme.Queue io = controller.ioQueues(1, 16, 16);
      DmaBuffer out = controller.buffer(8192);
      DmaBuffer in = controller.buffer(8192);
      for (int i = 0; i < 8192; i++) {
        out.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
      }
      for (NvmeLayout.Namespace namespace : LAYOUT.namespaces()) {
        int nsid = namespace.nsid();
        int blocks = 8192 / namespace.blockSize();
        Completion write =
            io.run(rw(NvmeOpcodes.IO_WRITE, nsid, 8, blocks, out).prp2(address(out) + 4096));
        assertThat(write.status()).as("write to namespace %d: %s", nsid, write).isZero();
        assertThat(write.sqId()).isEqualTo(1);
        in.segment().fill((byte) 0);
        Completion read =
            io.run(rw(NvmeOpcodes.IO_READ, nsid, 8, blocks, in).prp2(address(in) + 4096));
        assertThat(read.status()).as("read from namespace %d: %s", nsid, read).isZero();
        assertThat(MemorySegment.mismatch(out.segment(), 0, 8192, in.segment(), 0, 8192))
            .as("what was written to namespace %d reads back", nsid)
            .isEqualTo(-1);
      }
    }
  }

  @Test
  void identifyDescribesEveryNamespaceAsQemuDoes(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      DmaBuffer buffer = controller.buffer(4096);
      MemorySegment data = buffer.segment();
      for (NvmeLayout.Namespace namespace : LAYOUT.namespaces()) {
        int nsid = namespace.nsid();
        int blockSize = namespace.blockSize();
        assertThat(controller.admin(identify(0, nsid, buffer)).status()).isZero();
        long blocks = namespace.blocks();
        int ns = nsid;
        assertAll(
            () ->
                assertThat(data.get(ValueLayout.JAVA_LONG, 0))
                    .as("NSZE of %d", ns)
                    .isEqualTo(blocks),
            () -> assertThat(data.get(ValueLayout.JAVA_LONG, 8)).as("NCAP").isEqualTo(blocks),
            () ->
                assertThat(data.get(ValueLayout.JAVA_BYTE, 24)).as("NSFEAT").isEqualTo((byte) 0x14),
            () -> assertThat(data.get(ValueLayout.JAVA_BYTE, 25)).as("NLBAF").isEqualTo((byte) 7),
            () ->
                assertThat(data.get(ValueLayout.JAVA_BYTE, 26))
                    .as("FLBAS")
                    .isEqualTo((byte) (blockSize == 512 ? 0 : 4)),
            () -> assertThat(data.get(ValueLayout.JAVA_BYTE, 33)).as("DLFEAT").isEqualTo((byte) 1),
            () ->
                assertThat(data.get(ValueLayout.JAVA_INT, 128 + 4 * 4))
                    .as("LBA format 4: 4 KiB, no metadata")
                    .isEqualTo(12 << 16));
        assertThat(controller.admin(identify(3, nsid, buffer)).status()).isZero();
        assertThat(data.get(ValueLayout.JAVA_INT, 0))
            .as("descriptor: command set identifier, 1 byte, NVM")
            .isEqualTo(0x0104);
        assertThat(data.get(ValueLayout.JAVA_BYTE, 4)).isZero();
      }
      data.fill((byte) 0x5a);
      assertThat(controller.admin(identify(0, INACTIVE, buffer)).status())
          .as("an inactive namespace")
          .isZero();
      assertThat(data.get(ValueLayout.JAVA_LONG, 0)).as("reads as zeros").isZero();
      assertThat(controller.admin(identify(0, 0, buffer)).status())
          .isEqualTo(NvmeStatus.INVALID_NAMESPACE | DNR);
      assertThat(controller.admin(identify(0, -1, buffer)).status())
          .isEqualTo(NvmeStatus.INVALID_NAMESPACE | DNR);
      assertThat(controller.admin(identify(3, INACTIVE, buffer)).status())
          .as("descriptors of an inactive namespace")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(identify(0x13, 0, buffer)).status())
          .as("controller list without a subsystem")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(identify(0x42, 0, buffer)).status())
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(Command.of(0x3f)).status())
          .as("an opcode QEMU does not know")
          .isEqualTo(NvmeStatus.INVALID_OPCODE | DNR);
      assertThat(controller.admin(identify(1, 0, buffer).flags(0x40)).status())
          .as("an SGL on an admin command")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
    }
  }

  @Test
  void queueCreationAndDeletionFailAsQemuDoes(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      long page = address(controller.buffer(4096));
      assertAll(
          () ->
              assertThat(createCq(controller, 0, 16, page, 1))
                  .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR),
          () ->
              assertThat(createCq(controller, 65, 16, page, 1))
                  .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR),
          () ->
              assertThat(createCq(controller, 1, 1, page, 1))
                  .as("one entry")
                  .isEqualTo(NvmeStatus.INVALID_QUEUE_SIZE | DNR),
          () ->
              assertThat(createCq(controller, 1, 2049, page, 1))
                  .as("over MQES")
                  .isEqualTo(NvmeStatus.INVALID_QUEUE_SIZE | DNR),
          () ->
              assertThat(createCq(controller, 1, 16, page + 512, 1))
                  .isEqualTo(NvmeStatus.INVALID_PRP_OFFSET | DNR),
          () ->
              assertThat(createCq(controller, 1, 16, page, 0))
                  .as("not contiguous")
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(createCq(controller, 1, 16, page, 1 | 7 << 16))
                  .as("vector 7 without MSI-X")
                  .isEqualTo(NvmeStatus.INVALID_INTERRUPT_VECTOR | DNR),
          () ->
              assertThat(createSq(controller, 1, 16, page, 1 | 1 << 16))
                  .as("SQ on a CQ that does not exist")
                  .isEqualTo(NvmeStatus.INVALID_CQ | DNR));
      long sqPage = address(controller.buffer(4096));
      assertThat(createCq(controller, 1, 16, page, 1)).isZero();
      assertThat(createCq(controller, 1, 16, page, 1))
          .as("twice")
          .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR);
      assertThat(createSq(controller, 1, 16, sqPage, 1 | 1 << 16)).isZero();
      assertThat(createSq(controller, 1, 16, sqPage, 1 | 1 << 16))
          .as("SQ twice")
          .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR);
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_CQ, 1))
          .as("a CQ with an SQ on it (QEMU sets no DNR)")
          .isEqualTo(NvmeStatus.INVALID_QUEUE_DELETION);
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_SQ, 2))
          .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR);
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_SQ, 0))
          .as("the admin SQ")
          .isEqualTo(NvmeStatus.INVALID_QUEUE_ID | DNR);
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_CQ, 0))
          .as("the admin CQ")
          .isEqualTo(NvmeStatus.INVALID_CQ | DNR);
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_SQ, 1)).isZero();
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_CQ, 1)).isZero();
      assertThat(delete(controller, NvmeOpcodes.ADMIN_DELETE_CQ, 1))
          .as("gone")
          .isEqualTo(NvmeStatus.INVALID_CQ | DNR);
    }
  }

  /**
   * QEMU's controller has no SR-IOV here: controller 0 may allocate none of its (zero) flexible
   * resources, any other identifier is refused as a controller, and so is every secondary action.
   */
  @Test
  void virtualizationManagementWithoutSrIovAnswersAsQemuDoes(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      assertAll(
          () ->
              assertThat(virtualize(controller, 0x1, 0, 0, 0))
                  .as("allocate nothing to the primary")
                  .extracting(Completion::status, Completion::dw0)
                  .containsExactly(0, 0),
          () ->
              assertThat(virtualize(controller, 0x1, 0, 0, 2).status())
                  .as("allocate 2 queues to the primary")
                  .isEqualTo(NvmeStatus.INVALID_NUMBER_OF_RESOURCES | DNR),
          () ->
              assertThat(virtualize(controller, 0x1, 1, 0x4eea, 0).status())
                  .as("a primary that is not this controller")
                  .isEqualTo(NvmeStatus.INVALID_CONTROLLER_ID | DNR),
          () ->
              assertThat(virtualize(controller, 0x8, 0, 1, 1).status())
                  .as("assign to a secondary")
                  .isEqualTo(NvmeStatus.INVALID_CONTROLLER_ID | DNR),
          () ->
              assertThat(virtualize(controller, 0x7, 1, 1, 0).status())
                  .as("a secondary offline")
                  .isEqualTo(NvmeStatus.INVALID_CONTROLLER_ID | DNR),
          () ->
              assertThat(virtualize(controller, 0x9, 0, 1, 0).status())
                  .as("a secondary online")
                  .isEqualTo(NvmeStatus.INVALID_CONTROLLER_ID | DNR),
          () ->
              assertThat(virtualize(controller, 0x2, 0, 0, 0).status())
                  .as("an action with no meaning")
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(virtualize(controller, 0x1, 2, 0, 0).status())
                  .as("resource type 2")
                  .isEqualTo(NvmeStatus.INVALID_RESOURCE_ID | DNR));
    }
  }

  private static Completion virtualize(
      RawNvme controller, int action, int resourceType, int controllerId, int resources) {
    return controller.admin(
        Command.of(NvmeOpcodes.ADMIN_VIRTUALIZATION_MANAGEMENT)
            .cdw(10, action | resourceType << 8 | controllerId << 16)
            .cdw(11, resources));
  }

  @Test
  void nvmCommandsFailAsQemuDoes(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 8, 8);
      DmaBuffer buffer = controller.buffer(1 << 20);
      int small = SMALL.nsid();
      long blocks512 = SMALL.blocks();
      int overMdts = (int) (LAYOUT.maxTransferBytes() / 512) + 1;
      long at = address(buffer);
      assertAll(
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, blocks512, 1, buffer)).status())
                  .as("past the end")
                  .isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, blocks512 - 1, 2, buffer)).status())
                  .as("across the end")
                  .isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, -1L, 2, buffer)).status())
                  .as("wrapping")
                  .isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, 0, overMdts, buffer)).status())
                  .as("over MDTS (%d blocks)", overMdts)
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, INACTIVE, 0, 1, buffer)).status())
                  .as("inactive namespace")
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, 0, 0, 1, buffer)).status())
                  .as("namespace 0")
                  .isEqualTo(NvmeStatus.INVALID_NAMESPACE | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, 257, 0, 1, buffer)).status())
                  .as("namespace 257")
                  .isEqualTo(NvmeStatus.INVALID_NAMESPACE | DNR),
          () ->
              assertThat(io.run(rw(0x7f, small, 0, 1, buffer)).status())
                  .as("opcode 7f")
                  .isEqualTo(NvmeStatus.INVALID_OPCODE | DNR),
          () ->
              assertThat(
                      io.run(rw(NvmeOpcodes.IO_READ, small, 0, 16, buffer).prp2(at + 4096 + 8))
                          .status())
                  .as("PRP2 not page aligned")
                  .isEqualTo(NvmeStatus.INVALID_PRP_OFFSET | DNR),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, 0, 1, buffer).flags(0x1)).status())
                  .as("fused")
                  .isEqualTo(NvmeStatus.INVALID_FIELD),
          () ->
              assertThat(io.run(rw(NvmeOpcodes.IO_READ, small, 0, 1, buffer).flags(0xc0)).status())
                  .as("PSDT 3")
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(io.run(Command.of(NvmeOpcodes.IO_FLUSH).nsid(INACTIVE)).status())
                  .as("flush of an inactive namespace")
                  .isEqualTo(NvmeStatus.INVALID_FIELD | DNR),
          () ->
              assertThat(io.run(Command.of(NvmeOpcodes.IO_FLUSH).nsid(-1)).status())
                  .as("flush of every namespace")
                  .isZero(),
          () ->
              assertThat(
                      io.run(
                              rw(
                                  NvmeOpcodes.IO_WRITE_ZEROES,
                                  LARGE.nsid(),
                                  LARGE.blocks(),
                                  1,
                                  buffer))
                          .status())
                  .isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE | DNR));
    }
  }

  /**
   * PRP1 at an offset into its page, then a PRP list whose last entry chains to a second list: the
   * list starts 16 bytes before the end of its page, so it holds one data page and the chain.
   */
  @Test
  void prpListsChainAndOffsetsMoveTheRightBytes(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 8, 8);
      DmaBuffer data = controller.buffer(8 * 4096);
      DmaBuffer lists = controller.buffer(2 * 4096);
      int length = 3 * 4096 + 1024; // 3 pages after the first partial one
      for (int i = 0; i < data.segment().byteSize(); i++) {
        data.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + i / 4096));
      }
      long base = address(data);
      // Data: 3 KiB at base + 1 KiB, then pages 2, 4 and 6 (not contiguous).
      long firstList = address(lists) + 4096 - 16;
      long secondList = address(lists) + 4096;
      lists.segment().set(ValueLayout.JAVA_LONG, 4096 - 16, base + 2 * 4096);
      lists.segment().set(ValueLayout.JAVA_LONG, 4096 - 8, secondList);
      lists.segment().set(ValueLayout.JAVA_LONG, 4096, base + 4 * 4096);
      lists.segment().set(ValueLayout.JAVA_LONG, 4096 + 8, base + 6 * 4096);
      Completion write =
          io.run(
              Command.of(NvmeOpcodes.IO_WRITE)
                  .nsid(SMALL.nsid())
                  .lba(0, length / 512)
                  .prp1(base + 1024)
                  .prp2(firstList));
      assertThat(write.status()).as("write: %s", write).isZero();

      DmaBuffer in = controller.buffer(length);
      Completion read =
          io.run(
              Command.of(NvmeOpcodes.IO_READ)
                  .nsid(SMALL.nsid())
                  .lba(0, length / 512)
                  .prp1(address(in))
                  .prp2(
                      listOf(
                          controller,
                          address(in) + 4096,
                          address(in) + 8192,
                          address(in) + 12288)));
      assertThat(read.status()).as("read: %s", read).isZero();
      MemorySegment got = in.segment();
      MemorySegment sent = data.segment();
      assertThat(MemorySegment.mismatch(sent, 1024, 4096, got, 0, 3072)).isEqualTo(-1);
      assertThat(MemorySegment.mismatch(sent, 2 * 4096, 3 * 4096, got, 3072, 3072 + 4096))
          .isEqualTo(-1);
      assertThat(MemorySegment.mismatch(sent, 4 * 4096, 5 * 4096, got, 3072 + 4096, 3072 + 8192))
          .isEqualTo(-1);
      assertThat(MemorySegment.mismatch(sent, 6 * 4096, 6 * 4096 + 2048, got, 3072 + 8192, length))
          .isEqualTo(-1);

      lists.segment().set(ValueLayout.JAVA_LONG, 4096 - 8, secondList + 8);
      assertThat(
              io.run(
                      Command.of(NvmeOpcodes.IO_READ)
                          .nsid(SMALL.nsid())
                          .lba(0, length / 512)
                          .prp1(base + 1024)
                          .prp2(firstList))
                  .status())
          .as("a chain pointer with an offset")
          .isEqualTo(NvmeStatus.INVALID_PRP_OFFSET | DNR);
    }
  }

  /**
   * SGLs (QEMU advertises them for NVM commands): one data block, a segment of two data blocks, and
   * the statuses QEMU gives a segment chain that ends wrongly, a descriptor of another type and a
   * data block shorter than the transfer.
   */
  @Test
  void sglsDescribeDataAsQemuReadsThem(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 8, 8);
      DmaBuffer out = controller.buffer(8192);
      DmaBuffer in = controller.buffer(8192);
      DmaBuffer segment = controller.buffer(4096);
      for (int i = 0; i < 8192; i++) {
        out.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13 + 1));
      }
      Completion write = io.run(sgl(NvmeOpcodes.IO_WRITE, 16, address(out), 8192, DATA_BLOCK));
      assertThat(write.status()).as("write through one data block: %s", write).isZero();

      // Two data blocks, the second half first, through a segment.
      descriptor(segment, 0, address(in) + 4096, 4096, DATA_BLOCK);
      descriptor(segment, 1, address(in), 4096, DATA_BLOCK);
      Completion read = io.run(sgl(NvmeOpcodes.IO_READ, 16, address(segment), 32, SEGMENT));
      assertThat(read.status()).as("read through a segment: %s", read).isZero();
      assertThat(MemorySegment.mismatch(out.segment(), 0, 4096, in.segment(), 4096, 8192))
          .isEqualTo(-1);
      assertThat(MemorySegment.mismatch(out.segment(), 4096, 8192, in.segment(), 0, 4096))
          .isEqualTo(-1);

      descriptor(segment, 1, address(segment) + 1024, 16, SEGMENT);
      assertAll(
          () ->
              assertThat(
                      io.run(sgl(NvmeOpcodes.IO_READ, 16, address(segment), 32, LAST_SEGMENT))
                          .status())
                  .as("a last segment that leads to another")
                  .isEqualTo(NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | DNR),
          () ->
              assertThat(
                      io.run(sgl(NvmeOpcodes.IO_READ, 16, address(segment), 24, SEGMENT)).status())
                  .as("a segment length that is not a whole number of descriptors")
                  .isEqualTo(NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | DNR),
          () ->
              assertThat(io.run(sgl(NvmeOpcodes.IO_READ, 16, address(in), 8192, 0x1)).status())
                  .as("a bit bucket as the first descriptor")
                  .isEqualTo(NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | DNR),
          () ->
              assertThat(
                      io.run(sgl(NvmeOpcodes.IO_READ, 16, address(in), 4096, DATA_BLOCK)).status())
                  .as("a data block shorter than the transfer")
                  .isEqualTo(NvmeStatus.INVALID_DATA_SGL_LENGTH | DNR));
      descriptor(segment, 0, address(in), 4096, 0x4);
      assertThat(io.run(sgl(NvmeOpcodes.IO_READ, 16, address(segment), 32, SEGMENT)).status())
          .as("a keyed data block in a segment")
          .isEqualTo(NvmeStatus.INVALID_SGL_DESCRIPTOR_TYPE | DNR);
    }
  }

  private static final int DATA_BLOCK = 0x0;
  private static final int SEGMENT = 0x2;
  private static final int LAST_SEGMENT = 0x3;

  /**
   * A command on the namespace of 512-byte blocks whose data pointer is one SGL descriptor (PSDT
   * 1).
   */
  private static Command sgl(int opcode, int blocks, long address, long length, int type) {
    return Command.of(opcode)
        .flags(1 << 6)
        .nsid(SMALL.nsid())
        .lba(0, blocks)
        .prp1(address)
        .prp2((length & 0xffff_ffffL) | (long) type << 60);
  }

  private static void descriptor(DmaBuffer list, int index, long address, long length, int type) {
    list.segment().set(ValueLayout.JAVA_LONG, index * 16L, address);
    list.segment().set(ValueLayout.JAVA_LONG, index * 16L + 8, length | (long) type << 60);
  }

  /**
   * A completion queue of two entries holds one completion: the next waits until the host frees the
   * entry, and the phase tag flips each time the queue wraps. Every completion carries the
   * submission queue's head as it was when the completion was posted.
   */
  @Test
  void aFullCompletionQueueHoldsCompletionsBack(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 4, 2);
      // Reads past the end: QEMU completes them while it fetches, in order (a valid command would
      // complete from its block layer, in whatever order that finishes).
      Command pastTheEnd =
          Command.of(NvmeOpcodes.IO_READ).nsid(SMALL.nsid()).lba(SMALL.blocks(), 1);
      int first = io.place(pastTheEnd);
      int second = io.place(pastTheEnd);
      int third = io.place(pastTheEnd);
      io.ring();
      Completion one =
          org.awaitility.Awaitility.await()
              .pollInSameThread()
              .atMost(RawNvme.COMPLETION)
              .until(io::peek, java.util.Optional::isPresent)
              .orElseThrow();
      assertThat(one.cid()).isEqualTo(first);
      assertThat(one.status()).isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE | DNR);
      assertThat(one.phase()).isTrue();
      assertThat(one.sqHead()).as("all three fetched").isEqualTo(3);
      // Head still at entry 0: the queue is full with one entry; entry 1 must stay old.
      MemorySegment entry1 = io.completions.segment().asSlice(16, 16);
      assertThat(Completion.of(entry1).cid()).as("nothing posted past a full queue").isZero();
      io.consume();
      Completion two = io.next();
      assertThat(two.cid()).isEqualTo(second);
      assertThat(two.phase()).as("entry 1, first pass").isTrue();
      Completion three = io.next();
      assertThat(three.cid()).isEqualTo(third);
      assertThat(three.phase()).as("entry 0 again: the phase flipped").isFalse();
      assertThat(three.sqHead()).isEqualTo(3);
    }
  }

  /**
   * A submission queue of four entries has four requests. With its completions held back by a full
   * completion queue, it stops being fetched from once all four wait; when the host frees a
   * completion entry, fetching resumes without another doorbell, and every command completes.
   */
  @Test
  void aStalledSubmissionQueueResumesWhenCompletionsDrain(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 4, 2);
      java.util.Set<Integer> submitted = new java.util.TreeSet<>();
      for (int i = 0; i < 3; i++) {
        submitted.add(io.place(Command.of(NvmeOpcodes.IO_FLUSH).nsid(1)));
      }
      io.ring();
      org.awaitility.Awaitility.await()
          .pollInSameThread()
          .atMost(RawNvme.COMPLETION)
          .until(io::peek, java.util.Optional::isPresent);
      for (int i = 0; i < 3; i++) {
        submitted.add(io.place(Command.of(NvmeOpcodes.IO_FLUSH).nsid(1)));
      }
      io.ring(); // two are fetched, then all four requests wait; the sixth stays in the queue

      java.util.Set<Integer> completed = new java.util.TreeSet<>();
      for (int i = 0; i < 6; i++) {
        Completion done = io.next();
        assertThat(done.status()).as("%s", done).isZero();
        completed.add(done.cid());
      }
      assertThat(completed).as("every command, the stalled one included").isEqualTo(submitted);
    }
  }

  @Test
  void featuresAndLogPagesAreQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      DmaBuffer buffer = controller.buffer(4096);
      MemorySegment data = buffer.segment();
      Completion queues = controller.admin(getFeature(0x07, 0));
      assertThat(queues.status()).isZero();
      assertThat(queues.dw0()).as("64 queue pairs, 0-based").isEqualTo(0x003f003f);
      assertThat(controller.admin(getFeature(0x06, 0)).dw0()).as("write cache on").isEqualTo(1);
      assertThat(controller.admin(getFeature(0x04, 0)).dw0())
          .as("over-temperature")
          .isEqualTo(0x157);
      assertThat(controller.admin(getFeature(0x01, 0)).dw0()).as("arbitration").isEqualTo(7);
      assertThat(controller.admin(getFeature(0x07 | 3 << 8, 0)).dw0())
          .as("capabilities")
          .isEqualTo(4);
      assertThat(controller.admin(getFeature(0x03, 0)).status())
          .as("LBA range type")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(setFeature(0x01, 0, 0)).status())
          .as("arbitration")
          .isEqualTo(NvmeStatus.FEATURE_NOT_CHANGEABLE | DNR);
      assertThat(controller.admin(setFeature(0x08, 0, 0)).status())
          .as("coalescing")
          .isEqualTo(NvmeStatus.FEATURE_NOT_CHANGEABLE | DNR);
      assertThat(controller.admin(setFeature(0x06 | 1 << 31, 0, 1)).status())
          .as("save")
          .isEqualTo(NvmeStatus.FEATURE_NOT_SAVEABLE | DNR);
      assertThat(controller.admin(setFeature(0x06, 1, 1)).status())
          .as("per namespace")
          .isEqualTo(NvmeStatus.FEATURE_NOT_NAMESPACE_SPECIFIC | DNR);
      Completion set = controller.admin(setFeature(0x07, 0, 0x00030003));
      assertThat(set.status()).isZero();
      assertThat(set.dw0()).as("QEMU keeps its own count").isEqualTo(0x003f003f);
      controller.ioQueues(1, 2, 2);
      assertThat(controller.admin(setFeature(0x07, 0, 0)).status())
          .as("after creating queues")
          .isEqualTo(NvmeStatus.COMMAND_SEQUENCE_ERROR | DNR);

      assertThat(controller.admin(getLog(0x02, 512, buffer).nsid(-1)).status()).isZero();
      assertThat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, 1))
          .as("temperature")
          .isEqualTo((short) 0x143);
      assertThat(data.get(ValueLayout.JAVA_BYTE, 0)).as("critical warning").isZero();
      assertThat(controller.admin(getLog(0x03, 512, buffer)).status()).isZero();
      assertThat(data.get(ValueLayout.JAVA_BYTE, 0)).as("AFI").isEqualTo((byte) 1);
      assertThat(ascii(data, 8, 8)).as("FRS1").isEqualTo("1.0");
      data.fill((byte) 0x5a);
      assertThat(controller.admin(getLog(0x01, 64, buffer)).status()).isZero();
      assertThat(data.get(ValueLayout.JAVA_LONG, 0)).as("no errors").isZero();
      assertThat(controller.admin(getLog(0x02, 512, buffer).nsid(INACTIVE)).status())
          .as("SMART of an inactive namespace")
          .isEqualTo(NvmeStatus.INVALID_NAMESPACE | DNR);
      assertThat(controller.admin(getLog(0x7f, 512, buffer)).status())
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(getLog(0x02, 512, buffer).cdw(12, 2)).status())
          .as("unaligned offset")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      assertThat(controller.admin(Command.of(NvmeOpcodes.ADMIN_ABORT).cdw(10, 1)).dw0())
          .as("abort: not aborted")
          .isEqualTo(1);
      assertThat(controller.admin(Command.of(NvmeOpcodes.ADMIN_ABORT).cdw(10, 9)).status())
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
    }
  }

  /** Compare, Write Zeroes and Dataset Management (deallocate) change or check what reads back. */
  @Test
  void compareWriteZeroesAndDeallocate(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      RawNvme.Queue io = controller.ioQueues(1, 8, 8);
      DmaBuffer out = controller.buffer(4096);
      DmaBuffer in = controller.buffer(4096);
      out.segment().fill((byte) 0xa5);
      for (NvmeLayout.Namespace namespace : LAYOUT.namespaces()) {
        int nsid = namespace.nsid();
        int blocks = 4096 / namespace.blockSize();
        long lba = (2L << 20) / namespace.blockSize();
        assertThat(io.run(rw(NvmeOpcodes.IO_WRITE, nsid, lba, blocks, out)).status()).isZero();
        assertThat(io.run(rw(NvmeOpcodes.IO_COMPARE, nsid, lba, blocks, out)).status())
            .as("compare equal")
            .isZero();
        out.segment().set(ValueLayout.JAVA_BYTE, 4000, (byte) 0);
        assertThat(io.run(rw(NvmeOpcodes.IO_COMPARE, nsid, lba, blocks, out)).status())
            .as("compare with one byte changed")
            .isEqualTo(NvmeStatus.COMPARE_FAILURE);
        out.segment().set(ValueLayout.JAVA_BYTE, 4000, (byte) 0xa5);
        assertThat(io.run(rw(NvmeOpcodes.IO_WRITE_ZEROES, nsid, lba, blocks, out)).status())
            .isZero();
        in.segment().fill((byte) 1);
        assertThat(io.run(rw(NvmeOpcodes.IO_READ, nsid, lba, blocks, in)).status()).isZero();
        assertThat(in.segment().get(ValueLayout.JAVA_LONG, 8)).as("zeroed").isZero();

        assertThat(io.run(rw(NvmeOpcodes.IO_WRITE, nsid, lba, blocks, out)).status()).isZero();
        DmaBuffer ranges = controller.buffer(4096);
        ranges.segment().set(ValueLayout.JAVA_INT, 4, blocks);
        ranges.segment().set(ValueLayout.JAVA_LONG, 8, lba);
        ranges.segment().set(ValueLayout.JAVA_INT, 16 + 4, 1);
        ranges.segment().set(ValueLayout.JAVA_LONG, 16 + 8, 1L << 40); // out of range: skipped
        Completion dsm =
            io.run(
                Command.of(NvmeOpcodes.IO_DATASET_MANAGEMENT)
                    .nsid(nsid)
                    .prp1(address(ranges))
                    .cdw(10, 1)
                    .cdw(11, 0x4));
        assertThat(dsm.status()).as("deallocate: %s", dsm).isZero();
        in.segment().fill((byte) 1);
        assertThat(io.run(rw(NvmeOpcodes.IO_READ, nsid, lba, blocks, in)).status()).isZero();
        assertThat(in.segment().get(ValueLayout.JAVA_LONG, 8))
            .as("deallocated reads as zeros")
            .isZero();
      }
    }
  }

  /**
   * Doorbell Buffer Config (QEMU advertises it in OACS): once the shadow doorbells are set, the
   * controller takes an I/O submission queue's tail from the shadow doorbell in memory, whatever
   * the MMIO doorbell says, and writes the event index after each command.
   */
  @Test
  void shadowDoorbellsTakeTheTailFromMemory(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      DmaBuffer shadows = controller.buffer(4096);
      DmaBuffer eventIndexes = controller.buffer(4096);
      Completion config =
          controller.admin(
              Command.of(NvmeOpcodes.ADMIN_DOORBELL_BUFFER_CONFIG)
                  .prp1(address(shadows))
                  .prp2(address(eventIndexes)));
      assertThat(config.status()).as("Doorbell Buffer Config: %s", config).isZero();
      assertThat(
              controller
                  .admin(
                      Command.of(NvmeOpcodes.ADMIN_DOORBELL_BUFFER_CONFIG)
                          .prp1(address(shadows) + 8)
                          .prp2(address(eventIndexes)))
                  .status())
          .as("shadow doorbells not page-aligned")
          .isEqualTo(NvmeStatus.INVALID_FIELD | DNR);
      RawNvme.Queue io = controller.ioQueues(1, 8, 8);

      io.place(Command.of(NvmeOpcodes.IO_FLUSH).nsid(1));
      io.place(Command.of(NvmeOpcodes.IO_FLUSH).nsid(1));
      // The shadow SQ 1 tail (at 8 bytes per queue pair) says 2; the MMIO doorbell says 1.
      shadows.segment().set(ValueLayout.JAVA_INT, 8, 2);
      controller.submissionDoorbell(1, 1);

      Completion first = io.next();
      Completion second = io.next();
      assertThat(first.status()).isZero();
      assertThat(second.status()).isZero();
      assertThat(second.sqHead()).as("both fetched").isEqualTo(2);
      assertThat(eventIndexes.segment().get(ValueLayout.JAVA_INT, 8))
          .as("the SQ event index")
          .isEqualTo(2);
    }
  }

  /**
   * An Asynchronous Event Request waits; a doorbell write for a queue that does not exist completes
   * it with an error event (invalid doorbell register, error log page); past the limit (AERL 3, so
   * four outstanding), another is refused.
   */
  @Test
  void invalidDoorbellsRaiseAsynchronousEvents(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 16)) {
      RawNvme.Queue admin = controller.admin;
      int aer = admin.submit(Command.of(NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST));
      assertThat(admin.peek()).as("an event request waits").isEmpty();
      controller.submissionDoorbell(5, 1);
      Completion event = admin.next();
      assertThat(event.cid()).isEqualTo(aer);
      assertThat(event.status()).isZero();
      assertThat(event.dw0())
          .as("error event, invalid doorbell register, log page 1")
          .isEqualTo(0x010000);

      for (int i = 0; i < 5; i++) {
        admin.submit(Command.of(NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST));
      }
      Completion refused = admin.next();
      assertThat(refused.status())
          .as("the fifth: %s", refused)
          .isEqualTo(NvmeStatus.AER_LIMIT_EXCEEDED);
      controller.submissionDoorbell(0, 100);
      assertThat(admin.peek())
          .as(
              "a doorbell value past the queue is ignored; the error event is masked until its log is read")
          .isEmpty();
      // Reading the error log unmasks error events: the queued one completes a waiting request
      // before the log page itself completes.
      DmaBuffer log = controller.buffer(4096);
      int read = admin.submit(getLog(0x01, 64, log));
      Completion second = admin.next();
      assertThat(second.dw0()).as("invalid doorbell value, error log page").isEqualTo(0x010100);
      Completion logPage = admin.next();
      assertThat(logPage.cid()).isEqualTo(read);
      assertThat(logPage.status()).isZero();
    }
  }

  // ---- Commands ----

  private static Command identify(int cns, int nsid, DmaBuffer buffer) {
    return Command.of(NvmeOpcodes.ADMIN_IDENTIFY).nsid(nsid).prp1(address(buffer)).cdw(10, cns);
  }

  private static Command rw(int opcode, int nsid, long slba, int blocks, DmaBuffer buffer) {
    return Command.of(opcode).nsid(nsid).lba(slba, blocks).prp1(address(buffer));
  }

  private static Command getFeature(int dw10, int nsid) {
    return Command.of(NvmeOpcodes.ADMIN_GET_FEATURES).nsid(nsid).cdw(10, dw10);
  }

  private static Command setFeature(int dw10, int nsid, int dw11) {
    return Command.of(NvmeOpcodes.ADMIN_SET_FEATURES).nsid(nsid).cdw(10, dw10).cdw(11, dw11);
  }

  private static Command getLog(int lid, int bytes, DmaBuffer buffer) {
    return Command.of(NvmeOpcodes.ADMIN_GET_LOG_PAGE)
        .prp1(address(buffer))
        .cdw(10, lid | (bytes / 4 - 1) << 16);
  }

  private static int createCq(RawNvme controller, int qid, int entries, long address, int dw11) {
    return controller
        .admin(
            Command.of(NvmeOpcodes.ADMIN_CREATE_CQ)
                .prp1(address)
                .cdw(10, qid | (entries - 1) << 16)
                .cdw(11, dw11))
        .status();
  }

  private static int createSq(RawNvme controller, int qid, int entries, long address, int dw11) {
    return controller
        .admin(
            Command.of(NvmeOpcodes.ADMIN_CREATE_SQ)
                .prp1(address)
                .cdw(10, qid | (entries - 1) << 16)
                .cdw(11, dw11))
        .status();
  }

  private static int delete(RawNvme controller, int opcode, int qid) {
    return controller.admin(Command.of(opcode).cdw(10, qid)).status();
  }

  private static long listOf(RawNvme controller, long... pages) {
    DmaBuffer list = controller.buffer(4096);
    for (int i = 0; i < pages.length; i++) {
      list.segment().setAtIndex(ValueLayout.JAVA_LONG, i, pages[i]);
    }
    return address(list);
  }

  private static long address(DmaBuffer buffer) {
    return buffer.deviceAddress().value();
  }

  private static String ascii(MemorySegment data, int offset, int length) {
    byte[] bytes = data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
    return new String(bytes, StandardCharsets.US_ASCII).strip();
  }
}
