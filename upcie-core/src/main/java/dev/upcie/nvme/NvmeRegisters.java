package dev.upcie.nvme;

import dev.upcie.mmio.Mmio;
import dev.upcie.register.Field;
import dev.upcie.register.Register;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import java.util.List;

/**
 * The NVMe controller registers in BAR0 and their fields (NVMe base specification 1.4, section
 * 3.1), as {@link Register} and {@link Field} values.
 *
 * <p>A layout descriptor in the style of Agrona's {@code *Descriptor} classes: constants, and
 * functions of them. Drivers, register dumps ({@link #dump(Mmio)}, which {@code upcie nvme
 * show-regs} prints) and tests use the same descriptions.
 *
 * <pre>{@code
 * long cap = bar0.read(NvmeRegisters.CAP);
 * int entries = (int) NvmeRegisters.CAP_MQES.get(cap) + 1;
 * bar0.write(NvmeRegisters.CC, NvmeRegisters.CC_EN.set(cc, 1));
 * }</pre>
 */
public final class NvmeRegisters {
  /** Controller Capabilities, 64-bit, read-only: see {@link NvmeCap}. */
  public static final Register CAP = new Register("CAP", 0x00, 8);

  /** Version, 32-bit, read-only: see {@link NvmeVersion}. */
  public static final Register VS = new Register("VS", 0x08, 4);

  /** Interrupt Mask Set, 32-bit: a 1 masks that pin-based (INTx/MSI) vector. */
  public static final Register INTMS = new Register("INTMS", 0x0c, 4);

  /** Interrupt Mask Clear, 32-bit: a 1 unmasks that pin-based (INTx/MSI) vector. */
  public static final Register INTMC = new Register("INTMC", 0x10, 4);

  /** Controller Configuration, 32-bit: see {@link NvmeCc}. */
  public static final Register CC = new Register("CC", 0x14, 4);

  /** Controller Status, 32-bit, read-only: see {@link NvmeCsts}. */
  public static final Register CSTS = new Register("CSTS", 0x1c, 4);

  /** NVM Subsystem Reset, 32-bit. */
  public static final Register NSSR = new Register("NSSR", 0x20, 4);

  /** Admin Queue Attributes, 32-bit: queue sizes, 0-based. */
  public static final Register AQA = new Register("AQA", 0x24, 4);

  /** Admin Submission Queue base address, 64-bit. */
  public static final Register ASQ = new Register("ASQ", 0x28, 8);

  /** Admin Completion Queue base address, 64-bit. */
  public static final Register ACQ = new Register("ACQ", 0x30, 8);

  /** The first doorbell (admin submission queue tail); the stride is {@link NvmeCap#dstrd()}. */
  public static final long DOORBELLS = 0x1000;

  /** CAP.MQES: maximum queue entries supported, 0-based. */
  public static final Field CAP_MQES = CAP.field("MQES", 0, 16);

  /** CAP.CQR: I/O queues must be physically contiguous. */
  public static final Field CAP_CQR = CAP.field("CQR", 16, 1);

  /** CAP.AMS: arbitration mechanisms supported beyond round robin. */
  public static final Field CAP_AMS = CAP.field("AMS", 17, 2);

  /** CAP.TO: worst-case time to become ready, in 500 ms units. */
  public static final Field CAP_TO = CAP.field("TO", 24, 8);

  /** CAP.DSTRD: doorbell stride exponent. */
  public static final Field CAP_DSTRD = CAP.field("DSTRD", 32, 4);

  /** CAP.NSSRS: NVM subsystem reset supported. */
  public static final Field CAP_NSSRS = CAP.field("NSSRS", 36, 1);

  /** CAP.CSS: command sets supported. */
  public static final Field CAP_CSS = CAP.field("CSS", 37, 8);

  /** CAP.MPSMIN: minimum memory page size, {@code 2^(12 + MPSMIN)}. */
  public static final Field CAP_MPSMIN = CAP.field("MPSMIN", 48, 4);

  /** CAP.MPSMAX: maximum memory page size, {@code 2^(12 + MPSMAX)}. */
  public static final Field CAP_MPSMAX = CAP.field("MPSMAX", 52, 4);

  /** CAP.PMRS: persistent memory region supported. */
  public static final Field CAP_PMRS = CAP.field("PMRS", 56, 1);

  /** CAP.CMBS: controller memory buffer supported. */
  public static final Field CAP_CMBS = CAP.field("CMBS", 57, 1);

  /** VS.MJR: major version. */
  public static final Field VS_MJR = VS.field("MJR", 16, 16);

  /** VS.MNR: minor version. */
  public static final Field VS_MNR = VS.field("MNR", 8, 8);

  /** VS.TER: tertiary version. */
  public static final Field VS_TER = VS.field("TER", 0, 8);

  /** CC.EN: enable. */
  public static final Field CC_EN = CC.field("EN", 0, 1);

  /** CC.CSS: I/O command set selected. */
  public static final Field CC_CSS = CC.field("CSS", 4, 3);

  /** CC.MPS: host memory page size, {@code 2^(12 + MPS)}. */
  public static final Field CC_MPS = CC.field("MPS", 7, 4);

  /** CC.AMS: arbitration mechanism selected. */
  public static final Field CC_AMS = CC.field("AMS", 11, 3);

  /** CC.SHN: shutdown notification. */
  public static final Field CC_SHN = CC.field("SHN", 14, 2);

  /** CC.IOSQES: I/O submission queue entry size, {@code 2^IOSQES}. */
  public static final Field CC_IOSQES = CC.field("IOSQES", 16, 4);

  /** CC.IOCQES: I/O completion queue entry size, {@code 2^IOCQES}. */
  public static final Field CC_IOCQES = CC.field("IOCQES", 20, 4);

  /** CSTS.RDY: ready. */
  public static final Field CSTS_RDY = CSTS.field("RDY", 0, 1);

  /** CSTS.CFS: controller fatal status. */
  public static final Field CSTS_CFS = CSTS.field("CFS", 1, 1);

  /** CSTS.SHST: shutdown status. */
  public static final Field CSTS_SHST = CSTS.field("SHST", 2, 2);

  /** CSTS.NSSRO: NVM subsystem reset occurred. */
  public static final Field CSTS_NSSRO = CSTS.field("NSSRO", 4, 1);

  /** CSTS.PP: processing paused. */
  public static final Field CSTS_PP = CSTS.field("PP", 5, 1);

  /** AQA.ASQS: admin submission queue size, 0-based. */
  public static final Field AQA_ASQS = AQA.field("ASQS", 0, 12);

  /** AQA.ACQS: admin completion queue size, 0-based. */
  public static final Field AQA_ACQS = AQA.field("ACQS", 16, 12);

  /** The registers a dump shows, in offset order. */
  public static final List<Register> ALL = List.of(CAP, VS, INTMS, INTMC, CC, CSTS, AQA, ASQ, ACQ);

  /** Every field above, by register in offset order, then by bit. */
  public static final List<Field> FIELDS =
      List.of(
          CAP_MQES,
          CAP_CQR,
          CAP_AMS,
          CAP_TO,
          CAP_DSTRD,
          CAP_NSSRS,
          CAP_CSS,
          CAP_MPSMIN,
          CAP_MPSMAX,
          CAP_PMRS,
          CAP_CMBS,
          VS_TER,
          VS_MNR,
          VS_MJR,
          CC_EN,
          CC_CSS,
          CC_MPS,
          CC_AMS,
          CC_SHN,
          CC_IOSQES,
          CC_IOCQES,
          CSTS_RDY,
          CSTS_CFS,
          CSTS_SHST,
          CSTS_NSSRO,
          CSTS_PP,
          AQA_ASQS,
          AQA_ACQS);

  private NvmeRegisters() {}

  /**
   * Reads {@link #ALL} from {@code bar0} and decodes them as {@code upcie nvme show-regs} prints
   * them: reads only, each register once.
   *
   * <pre>{@code
   * System.out.print(NvmeRegisters.dump(bar0));
   * // cap     0x004018200f0107ff  mqes=2047 cqr=1 ... css=0xc1 ...  (ready timeout 7500 ms)
   * // vs      0x00010400          ter=0 mnr=4 mjr=1  (1.4.0)
   * // ...
   * // csts    0x00000001          rdy=1 cfs=0 shst=0 nssro=0 pp=0
   * }</pre>
   */
  public static RegisterDump dump(Mmio bar0) {
    return dump(ALL.stream().map(bar0::readValue).toList());
  }

  /**
   * {@code values} (of these registers or some of them) decoded as {@link #dump(Mmio)} decodes
   * them: CAP.CSS in hexadecimal, CAP's ready timeout, the version, and a CSTS of all ones.
   */
  public static RegisterDump dump(List<RegisterValue> values) {
    return RegisterDump.of(values, FIELDS)
        .withHexFields(List.of(CAP_CSS))
        .withNotes(NvmeRegisters::note);
  }

  // What a raw dump does not say at a glance.
  private static String note(RegisterValue value) {
    if (value.register().equals(CAP)) {
      return "ready timeout " + new NvmeCap(value.value()).readyTimeout().toMillis() + " ms";
    }
    if (value.register().equals(VS)) {
      return new NvmeVersion((int) value.value()).toString();
    }
    if (value.register().equals(CSTS) && new NvmeCsts((int) value.value()).isAllOnes()) {
      return "all ones: the device did not answer";
    }
    return "";
  }

  /** The fields of {@code register} described here, lowest bit first. */
  public static List<Field> fields(Register register) {
    return FIELDS.stream().filter(f -> f.register().equals(register)).toList();
  }

  /**
   * The doorbell offset of submission queue {@code qid}'s tail, for a CAP.DSTRD of {@code dstrd}.
   */
  public static long submissionTailDoorbell(int qid, int dstrd) {
    return DOORBELLS + (2L * qid) * (4L << dstrd);
  }

  /**
   * The doorbell offset of completion queue {@code qid}'s head, for a CAP.DSTRD of {@code dstrd}.
   */
  public static long completionHeadDoorbell(int qid, int dstrd) {
    return DOORBELLS + (2L * qid + 1) * (4L << dstrd);
  }
}
