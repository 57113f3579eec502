package dev.upcie.it.device;

import dev.upcie.nvme.NvmeOpcodes;
import java.util.SplittableRandom;

/**
 * A seeded stream of NVMe commands, valid and invalid, for the differential test: random opcodes,
 * namespaces, LBAs, lengths, flags, PRPs (aligned, at offsets, lists, chains, unmapped) and
 * doorbell values. Addresses are described relative to the test's buffers ({@link Pointer}), so one
 * command means the same on two controllers whose memory lies at different device addresses.
 *
 * <p>Some commands are left out because they would make the two runs differ for reasons outside the
 * controllers: Asynchronous Event Requests and Doorbell Buffer Config (they change how the harness
 * itself must drive the queues), doorbells that move a live queue, Copy and formats with metadata
 * (known differences of the model), and Error Recovery with DULBE (the model keeps no allocation
 * map). A PRP list holds one unmapped page at most: QEMU 7.2 never completes some reads and writes
 * with two (see {@link #secondPointer}). Transfers are sized by each namespace's block size as the
 * stream's own Format NVM commands leave it.
 */
final class RandomNvmeCommands {
  /** Bytes of the data buffer commands point into. */
  static final int DATA = 1 << 20;

  /** Pages of PRP lists, kept apart from the data so their device addresses are not compared. */
  static final int LIST_PAGES = 4;

  /** The blocks at the start of each namespace that the test fills first. */
  static final long FILLED_BYTES = 4L << 20;

  /** A queue id the generator may create and delete (never 1, the harness's own). */
  static final int FIRST_SPARE_QUEUE = 2;

  private final SplittableRandom random;
  private final NvmeLayout layout;
  private final boolean[] sqExists = new boolean[70];
  private final boolean[] cqExists = new boolean[70];

  /**
   * Each active namespace's block size now: a Format NVM that succeeds changes it, and a transfer
   * sized for the old one would make PRP2 mean something else to the controllers than to the
   * generator (a data page read as a PRP list).
   */
  private final java.util.Map<Integer, Integer> blockSizes = new java.util.HashMap<>();

  /**
   * The stream of {@code seed} for a controller of {@code layout}: its namespaces, their sizes and
   * block sizes. For the default layout a seed gives the same stream as before layouts existed.
   */
  RandomNvmeCommands(long seed, NvmeLayout layout) {
    this.random = new SplittableRandom(seed);
    this.layout = layout;
    sqExists[1] = true;
    cqExists[1] = true;
    layout.namespaces().forEach(ns -> blockSizes.put(ns.nsid(), ns.blockSize()));
  }

  /** Where a data pointer points. */
  sealed interface Pointer {
    /** {@code offset} bytes into the data buffer. */
    record Data(long offset) implements Pointer {}

    /** A PRP list in list page {@code page}, at {@code offset} into it, holding {@code entries}. */
    record List(int page, int offset, Pointer[] entries) implements Pointer {}

    /** An address no mapping covers, on either controller. */
    record Unmapped() implements Pointer {}

    /** A literal value (0, or a random number the controller must refuse or ignore). */
    record Literal(long value) implements Pointer {}

    /**
     * An SGL descriptor (type in the high nibble of byte 15): a data block at {@code target}, or a
     * (last) segment of {@code descriptors} laid out in list page {@code page}.
     */
    record Sgl(int type, Pointer target, long length, int page, Sgl[] descriptors)
        implements Pointer {}
  }

  /** One step: a command on a queue, or a doorbell write. */
  sealed interface Step {
    /** A command on the admin queue ({@code queue} 0) or I/O queue 1. */
    record Command(
        int queue,
        int opcode,
        int flags,
        int nsid,
        Pointer prp1,
        Pointer prp2,
        int[] cdw,
        byte[] payload,
        String description)
        implements Step {
      /** The command without a payload (bytes the harness puts at PRP1 first). */
      Command(
          int queue,
          int opcode,
          int flags,
          int nsid,
          Pointer prp1,
          Pointer prp2,
          int[] cdw,
          String description) {
        this(queue, opcode, flags, nsid, prp1, prp2, cdw, null, description);
      }
    }

    /** A doorbell write that the controllers must ignore. */
    record Doorbell(boolean submission, int qid, int value, String description) implements Step {}
  }

  /** The next step. */
  Step next() {
    int kind = random.nextInt(100);
    if (kind < 5) {
      return doorbell();
    }
    return kind < 35 ? admin() : io();
  }

  /** The harness tells the generator what a queue command did, so it knows which queues exist. */
  void completed(Step.Command command, int status) {
    if (command.queue() != 0 || status != 0) {
      return;
    }
    if (command.opcode() == NvmeOpcodes.ADMIN_FORMAT_NVM) {
      // Only LBA formats 0 (512 bytes) and 4 (4 KiB) reach the controllers (see admin()).
      int blockSize = (command.cdw()[10] & 0xf) == 4 ? 4096 : 512;
      blockSizes.replaceAll(
          (nsid, old) -> command.nsid() == -1 || command.nsid() == nsid ? blockSize : old);
      return;
    }
    int qid = command.cdw()[10] & 0xffff;
    if (qid >= sqExists.length) {
      return;
    }
    switch (command.opcode()) {
      case NvmeOpcodes.ADMIN_CREATE_SQ -> sqExists[qid] = true;
      case NvmeOpcodes.ADMIN_CREATE_CQ -> cqExists[qid] = true;
      case NvmeOpcodes.ADMIN_DELETE_SQ -> sqExists[qid] = false;
      case NvmeOpcodes.ADMIN_DELETE_CQ -> cqExists[qid] = false;
      default -> {}
    }
  }

  private Step doorbell() {
    boolean submission = random.nextBoolean();
    int qid;
    int value;
    if (random.nextBoolean()) {
      // A queue that does not exist.
      do {
        qid = random.nextInt(0, 80);
      } while (qid < sqExists.length && (submission ? sqExists[qid] : cqExists[qid]) || qid == 0);
      value = random.nextInt(0, 0x10000);
    } else {
      // A live queue, with a value past its end: admin queues have 32 entries, queue 1 has 64.
      qid = random.nextInt(2);
      value = random.nextInt(qid == 0 ? 32 : 64, 0x10000);
    }
    return new Step.Doorbell(
        submission,
        qid,
        value,
        String.format(
            "%s doorbell of queue %d = %d", submission ? "SQ tail" : "CQ head", qid, value));
  }

  private Step admin() {
    int[] cdw = new int[16];
    int choice = random.nextInt(100);
    int opcode;
    int nsid = 0;
    Pointer prp1 = new Pointer.Data(page(random.nextInt(DATA / 4096)));
    Pointer prp2 = new Pointer.Literal(0);
    if (choice < 25) {
      opcode = NvmeOpcodes.ADMIN_IDENTIFY;
      int[] cnses = {
        0, 0, 1, 1, 2, 3, 5, 6, 7, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x1a, 0x1b, 0x1c
      };
      cdw[10] = random.nextInt(10) == 0 ? random.nextInt(256) : cnses[random.nextInt(cnses.length)];
      cdw[11] = random.nextInt(4) == 0 ? random.nextInt(4) << 24 : 0;
      nsid = namespace();
      prp1 = dataPointer(4096);
      prp2 = secondPointer(prp1, 4096);
    } else if (choice < 40) {
      opcode = NvmeOpcodes.ADMIN_GET_FEATURES;
      int[] fids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x16, 0x19, 0x80};
      int fid = random.nextInt(8) == 0 ? random.nextInt(256) : fids[random.nextInt(fids.length)];
      cdw[10] = fid | random.nextInt(8) << 8;
      cdw[11] =
          random.nextInt(3) == 0
              ? random.nextInt()
              : random.nextInt(4) << 20 | random.nextInt(2) << 16;
      nsid = namespace();
    } else if (choice < 50) {
      opcode = NvmeOpcodes.ADMIN_SET_FEATURES;
      int[] fids = {1, 2, 3, 4, 4, 6, 6, 7, 8, 9, 0x0a, 0x0b, 0x0e, 0x16, 0x19};
      int fid = random.nextInt(10) == 0 ? random.nextInt(256) : fids[random.nextInt(fids.length)];
      cdw[10] = fid | (random.nextInt(8) == 0 ? 1 << 31 : 0);
      cdw[11] =
          switch (fid) {
            case 4 ->
                0x100 + random.nextInt(0x100) | random.nextInt(4) << 20 | random.nextInt(2) << 16;
            case 6 -> random.nextInt(2);
            default -> random.nextInt();
          };
      nsid = random.nextInt(3) == 0 ? namespace() : 0;
      prp1 = dataPointer(512);
    } else if (choice < 62) {
      opcode = NvmeOpcodes.ADMIN_GET_LOG_PAGE;
      int[] lids = {1, 2, 2, 3, 4, 5, 6, 0x7f};
      int lid = lids[random.nextInt(lids.length)];
      int dwords = random.nextInt(4) == 0 ? random.nextInt(1, 1025) : (lid == 1 ? 16 : 128);
      cdw[10] = lid | (random.nextInt(8) == 0 ? 1 << 15 : 0) | (dwords - 1) << 16;
      cdw[12] = random.nextInt(6) == 0 ? random.nextInt(0, 600) : 0;
      cdw[14] = random.nextInt(4) == 0 ? random.nextInt(4) << 24 : 0;
      nsid = random.nextBoolean() ? -1 : namespace();
      prp1 = dataPointer(dwords * 4L);
      prp2 = secondPointer(prp1, dwords * 4L);
    } else if (choice < 72) {
      boolean completion = random.nextBoolean();
      opcode = completion ? NvmeOpcodes.ADMIN_CREATE_CQ : NvmeOpcodes.ADMIN_CREATE_SQ;
      int qid = random.nextInt(8) == 0 ? random.nextInt(0, 0x10000) : random.nextInt(0, 68);
      if (qid == 1) {
        qid = 2;
      }
      int entries = random.nextInt(5) == 0 ? random.nextInt(0, 0x10000) : random.nextInt(2, 64);
      cdw[10] = qid | (entries - 1) << 16;
      int flags = random.nextInt(6) == 0 ? random.nextInt(8) : 1;
      cdw[11] =
          completion
              ? flags & ~0x2 | (random.nextInt(6) == 0 ? random.nextInt(1, 80) : 0) << 16
              : flags | (random.nextInt(4) == 0 ? random.nextInt(0, 70) : existingCq()) << 16;
      prp1 =
          random.nextInt(6) == 0
              ? new Pointer.Data(page(random.nextInt(DATA / 4096)) + 512)
              : new Pointer.Data(page(random.nextInt(DATA / 4096)));
    } else if (choice < 80) {
      boolean completion = random.nextBoolean();
      opcode = completion ? NvmeOpcodes.ADMIN_DELETE_CQ : NvmeOpcodes.ADMIN_DELETE_SQ;
      int qid = random.nextInt(0, 70);
      cdw[10] = qid == 1 ? 0 : qid;
    } else if (choice < 85) {
      opcode = NvmeOpcodes.ADMIN_ABORT;
      cdw[10] = random.nextInt(0, 70) | random.nextInt(0x10000) << 16;
    } else if (choice < 88) {
      opcode = NvmeOpcodes.ADMIN_FORMAT_NVM;
      int[] formats = {0, 4, 4, 0, 1, 8, 15};
      cdw[10] =
          formats[random.nextInt(formats.length)]
              | random.nextInt(2) << 4
              | (random.nextInt(4) == 0 ? random.nextInt(8) : 0) << 5
              | random.nextInt(2) << 8;
      if ((cdw[10] & 0xf) != 0 && (cdw[10] & 0xf) != 4 && (cdw[10] & 0xf) < 8) {
        cdw[10] = cdw[10] & ~0xf; // LBA formats with metadata: a known difference
      }
      nsid = random.nextInt(4) == 0 ? -1 : namespace();
    } else if (choice < 92) {
      int[] odd = {0x03, 0x07, 0x0b, 0x0d, 0x10, 0x11, 0x14, 0x15, 0x18, 0x19, 0x1c, 0x7f, 0x81};
      opcode = odd[random.nextInt(odd.length)];
      cdw[10] = random.nextInt();
      nsid = namespace();
    } else {
      opcode = random.nextInt(256);
      if (opcode == NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST
          || opcode == NvmeOpcodes.ADMIN_DOORBELL_BUFFER_CONFIG
          || opcode == NvmeOpcodes.ADMIN_FORMAT_NVM
          || opcode == NvmeOpcodes.ADMIN_CREATE_SQ
          || opcode == NvmeOpcodes.ADMIN_CREATE_CQ
          || opcode == NvmeOpcodes.ADMIN_DELETE_SQ
          || opcode == NvmeOpcodes.ADMIN_DELETE_CQ
          || opcode == NvmeOpcodes.ADMIN_SET_FEATURES) {
        opcode = 0x3f;
      }
      cdw[10] = random.nextInt(256);
      nsid = namespace();
    }
    if (opcode == NvmeOpcodes.ADMIN_SET_FEATURES && (cdw[10] & 0xff) == 0x05) {
      cdw[11] &= ~0x10000; // no DULBE
    }
    int flags = random.nextInt(20) == 0 ? random.nextInt(256) : 0;
    return new Step.Command(0, opcode, flags, nsid, prp1, prp2, cdw, "admin " + opcode);
  }

  private Step io() {
    int[] cdw = new int[16];
    int[] opcodes = {
      NvmeOpcodes.IO_READ,
      NvmeOpcodes.IO_READ,
      NvmeOpcodes.IO_READ,
      NvmeOpcodes.IO_WRITE,
      NvmeOpcodes.IO_WRITE,
      NvmeOpcodes.IO_WRITE,
      NvmeOpcodes.IO_COMPARE,
      NvmeOpcodes.IO_FLUSH,
      NvmeOpcodes.IO_WRITE_ZEROES,
      NvmeOpcodes.IO_DATASET_MANAGEMENT,
      NvmeOpcodes.IO_VERIFY,
      NvmeOpcodes.IO_COPY
    };
    int opcode =
        random.nextInt(12) == 0 ? random.nextInt(256) : opcodes[random.nextInt(opcodes.length)];
    int nsid = namespace();
    // An inactive or invalid namespace: the sizes of the first, as before layouts existed.
    NvmeLayout.Namespace target =
        layout.nsids().contains(nsid) ? layout.namespace(nsid) : layout.namespaces().getFirst();
    int blockSize = blockSizes.get(target.nsid());
    long filledBlocks = FILLED_BYTES / blockSize;
    long blocksInNamespace = target.bytes() / blockSize;
    long slba =
        switch (random.nextInt(10)) {
          case 0 -> blocksInNamespace - random.nextInt(1, 4);
          case 1 -> blocksInNamespace + random.nextInt(4);
          case 2 -> random.nextLong();
          default -> random.nextLong(filledBlocks);
        };
    int blocks =
        switch (random.nextInt(10)) {
          case 0 -> random.nextInt(1, 0x10001);
          case 1, 2 -> random.nextInt(1, 1 + (256 << 10) / blockSize);
          default -> random.nextInt(1, 9);
        };
    cdw[10] = (int) slba;
    cdw[11] = (int) (slba >>> 32);
    cdw[12] = (blocks - 1) | (random.nextInt(10) == 0 ? random.nextInt(0x10000) << 16 : 0);
    long length = Math.min((long) blocks * blockSize, DATA);
    Pointer prp1 = dataPointer(length);
    Pointer prp2 = secondPointer(prp1, length);
    byte[] payload = null;
    if (opcode == NvmeOpcodes.IO_DATASET_MANAGEMENT) {
      int ranges = random.nextInt(1, 5);
      cdw[10] = ranges - 1;
      cdw[11] = random.nextInt(4) == 0 ? random.nextInt(8) : 0x4;
      prp1 = new Pointer.Data(page(random.nextInt(DATA / 4096)));
      prp2 = new Pointer.Literal(0);
      if (random.nextBoolean()) {
        payload = ranges(ranges, 16, 4, 8, filledBlocks, blocksInNamespace, 64);
      }
    } else if (opcode == NvmeOpcodes.IO_COPY) {
      int ranges = random.nextInt(10) == 0 ? random.nextInt(1, 257) : random.nextInt(1, 5);
      long destination =
          random.nextInt(8) == 0
              ? blocksInNamespace - random.nextInt(1, 64)
              : random.nextLong(filledBlocks);
      cdw[10] = (int) destination;
      cdw[11] = (int) (destination >>> 32);
      cdw[12] = (ranges - 1) | (random.nextInt(8) == 0 ? random.nextInt(1, 4) : 0) << 8;
      prp1 = new Pointer.Data(page(random.nextInt(DATA / 4096 - 2)));
      prp2 = new Pointer.Data(((Pointer.Data) prp1).offset() + 4096);
      payload = ranges(ranges, 32, 16, 8, filledBlocks, blocksInNamespace, 140);
    }
    int flags = random.nextInt(25) == 0 ? random.nextInt(256) & 0x3f : 0;
    if (random.nextInt(6) == 0) {
      flags |= (random.nextInt(8) == 0 ? 2 : 1) << 6;
      prp1 = sgl(length);
      prp2 = new Pointer.Literal(0);
    } else if (random.nextInt(40) == 0) {
      flags |= 3 << 6;
    }
    return new Step.Command(1, opcode, flags, nsid, prp1, prp2, cdw, payload, "I/O " + opcode);
  }

  /**
   * Source ranges (Copy: 32 bytes each, a 0-based 16-bit count at +16) or deallocation ranges
   * (Dataset Management: 16 bytes, a 32-bit count at +4), mostly inside the filled blocks.
   */
  private byte[] ranges(
      int count, int size, int countAt, int lbaAt, long filled, long blocks, int maxBlocks) {
    java.nio.ByteBuffer list =
        java.nio.ByteBuffer.allocate(count * size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      long slba =
          switch (random.nextInt(10)) {
            case 0 -> blocks - random.nextInt(1, 4);
            case 1 -> random.nextLong();
            default -> random.nextLong(filled);
          };
      int n = random.nextInt(1, maxBlocks + 1);
      list.putLong(i * size + lbaAt, slba);
      if (size == 32) {
        list.putShort(i * size + countAt, (short) (n - 1));
      } else {
        list.putInt(i * size + countAt, n);
      }
    }
    return list.array();
  }

  /**
   * An SGL for a transfer of {@code length}: one data block, a segment of data blocks (chained to a
   * last segment sometimes), or something QEMU must refuse.
   */
  private Pointer.Sgl sgl(long length) {
    int kind = random.nextInt(10);
    if (kind < 4) {
      long blockLength =
          switch (random.nextInt(8)) {
            case 0 -> 0;
            case 1 -> Math.max(length - 512, 0);
            case 2 -> length + 4096;
            default -> length;
          };
      return new Pointer.Sgl(0, dataPointer(length), blockLength, 0, null);
    }
    if (kind < 9) {
      int pieces = random.nextInt(1, 6);
      long piece = Math.max((length + pieces - 1) / pieces, 1);
      boolean chain = pieces > 2 && random.nextBoolean();
      int first = chain ? pieces / 2 : pieces;
      Pointer.Sgl[] head = new Pointer.Sgl[first + (chain ? 1 : 0)];
      long offset = page(random.nextInt(64));
      for (int i = 0; i < first; i++) {
        head[i] =
            new Pointer.Sgl(
                random.nextInt(40) == 0 ? 1 : 0,
                new Pointer.Data(offset + piece * i),
                piece,
                0,
                null);
      }
      if (chain) {
        Pointer.Sgl[] tail = new Pointer.Sgl[pieces - first];
        for (int i = 0; i < tail.length; i++) {
          tail[i] =
              new Pointer.Sgl(0, new Pointer.Data(offset + piece * (first + i)), piece, 0, null);
        }
        head[first] = new Pointer.Sgl(3, null, tail.length * 16L, 2, tail);
      }
      int type = random.nextInt(10) == 0 ? 3 : 2;
      long segmentLength = random.nextInt(20) == 0 ? head.length * 16L + 8 : head.length * 16L;
      return new Pointer.Sgl(type, null, segmentLength, 1, head);
    }
    int[] odd = {1, 4, 5, 0xf};
    return new Pointer.Sgl(odd[random.nextInt(odd.length)], dataPointer(length), length, 0, null);
  }

  /**
   * An active namespace mostly (the first, or one of the others); sometimes 0, an inactive one,
   * broadcast, or anything. One draw decides among the active ones, so the default layout's stream
   * is what it was with namespaces 1 and 2 fixed.
   */
  private int namespace() {
    java.util.List<Integer> active = layout.nsids();
    int draw = random.nextInt(20);
    return switch (draw) {
      case 0 -> 0;
      case 1 -> layout.inactiveNsid();
      case 2 -> -1;
      case 3 -> random.nextInt();
      case 4, 5, 6, 7, 8, 9, 10, 11 ->
          active.size() == 1 ? active.getFirst() : active.get(1 + (draw - 4) % (active.size() - 1));
      default -> active.getFirst();
    };
  }

  private int existingCq() {
    for (int i = 0; i < 8; i++) {
      int qid = random.nextInt(1, cqExists.length);
      if (cqExists[qid]) {
        return qid;
      }
    }
    return 1;
  }

  /** PRP1 for a transfer of {@code length}: mostly page-aligned, sometimes at an offset. */
  private Pointer dataPointer(long length) {
    int kind = random.nextInt(20);
    if (kind == 0) {
      return new Pointer.Unmapped();
    }
    long maxStart = Math.max(DATA - length - 4096, 0);
    long start = page(random.nextLong(maxStart / 4096 + 1));
    if (kind < 5) {
      start += random.nextInt(1, 1024) * 4L; // an offset into the page
    }
    return new Pointer.Data(start);
  }

  /**
   * PRP2 for a transfer that starts at {@code prp1}: the next page, a PRP list (chained when it
   * starts near the end of its page), or something wrong.
   */
  private Pointer secondPointer(Pointer prp1, long length) {
    if (!(prp1 instanceof Pointer.Data data)) {
      return new Pointer.Literal(random.nextInt(4) == 0 ? random.nextLong() : 0);
    }
    long first = 4096 - data.offset() % 4096;
    long rest = length - Math.min(length, first);
    if (rest == 0) {
      return new Pointer.Literal(random.nextInt(8) == 0 ? random.nextLong() : 0);
    }
    long next = data.offset() + first;
    if (rest <= 4096) {
      return switch (random.nextInt(12)) {
        case 0 -> new Pointer.Data(next + 8);
        case 1 -> new Pointer.Unmapped();
        default -> new Pointer.Data(next);
      };
    }
    int pages = (int) ((rest + 4095) / 4096);
    int listPage = random.nextInt(LIST_PAGES - 1);
    // Start the list so that it holds a few entries before the chain, sometimes.
    int offset = random.nextInt(3) == 0 ? 4096 - 8 * random.nextInt(2, 6) : 0;
    Pointer[] entries = new Pointer[pages];
    boolean unmapped = false;
    for (int i = 0; i < pages; i++) {
      int draw = random.nextInt(60);
      // One unmapped page at most: with a second, QEMU 7.2 can leave a read or write pending for
      // ever (dma_blk_cb trims an unaligned vector, dropping its only bounce buffer unreleased).
      if (draw == 1 && unmapped) {
        draw = 2;
      }
      unmapped |= draw == 1;
      entries[i] =
          switch (draw) {
            case 0 -> new Pointer.Data(next + 4096L * i + 16);
            case 1 -> new Pointer.Unmapped();
            default -> new Pointer.Data(Math.min(next + 4096L * i, DATA - 4096));
          };
    }
    if (random.nextInt(30) == 0) {
      return new Pointer.Unmapped();
    }
    return new Pointer.List(listPage, offset, entries);
  }

  private static long page(long index) {
    return index * 4096;
  }
}
