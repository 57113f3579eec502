package dev.upcie.nvme;

/**
 * NVMe command opcodes: the admin command set (NVMe base specification 1.4, figure 139) and the NVM
 * command set (NVM command set specification 1.0, figure 18), with their names for traces and
 * messages.
 */
public final class NvmeOpcodes {
  /** Admin: Delete I/O Submission Queue. */
  public static final int ADMIN_DELETE_SQ = 0x00;

  /** Admin: Create I/O Submission Queue. */
  public static final int ADMIN_CREATE_SQ = 0x01;

  /** Admin: Get Log Page. */
  public static final int ADMIN_GET_LOG_PAGE = 0x02;

  /** Admin: Delete I/O Completion Queue. */
  public static final int ADMIN_DELETE_CQ = 0x04;

  /** Admin: Create I/O Completion Queue. */
  public static final int ADMIN_CREATE_CQ = 0x05;

  /** Admin: Identify. */
  public static final int ADMIN_IDENTIFY = 0x06;

  /** Admin: Abort. */
  public static final int ADMIN_ABORT = 0x08;

  /** Admin: Set Features. */
  public static final int ADMIN_SET_FEATURES = 0x09;

  /** Admin: Get Features. */
  public static final int ADMIN_GET_FEATURES = 0x0a;

  /** Admin: Asynchronous Event Request. */
  public static final int ADMIN_ASYNC_EVENT_REQUEST = 0x0c;

  /** Admin: Namespace Attachment. */
  public static final int ADMIN_NS_ATTACHMENT = 0x15;

  /** Admin: Virtualization Management. */
  public static final int ADMIN_VIRTUALIZATION_MANAGEMENT = 0x1c;

  /** Admin: Doorbell Buffer Config. */
  public static final int ADMIN_DOORBELL_BUFFER_CONFIG = 0x7c;

  /** Admin: Format NVM. */
  public static final int ADMIN_FORMAT_NVM = 0x80;

  /** NVM: Flush. */
  public static final int IO_FLUSH = 0x00;

  /** NVM: Write. */
  public static final int IO_WRITE = 0x01;

  /** NVM: Read. */
  public static final int IO_READ = 0x02;

  /** NVM: Compare. */
  public static final int IO_COMPARE = 0x05;

  /** NVM: Write Zeroes. */
  public static final int IO_WRITE_ZEROES = 0x08;

  /** NVM: Dataset Management. */
  public static final int IO_DATASET_MANAGEMENT = 0x09;

  /** NVM: Verify. */
  public static final int IO_VERIFY = 0x0c;

  /** NVM: Copy. */
  public static final int IO_COPY = 0x19;

  private NvmeOpcodes() {}

  /** The name of admin command {@code opcode}: {@code "Identify"}, or {@code "Admin 0x42"}. */
  public static String adminName(int opcode) {
    return switch (opcode) {
      case ADMIN_DELETE_SQ -> "Delete I/O SQ";
      case ADMIN_CREATE_SQ -> "Create I/O SQ";
      case ADMIN_GET_LOG_PAGE -> "Get Log Page";
      case ADMIN_DELETE_CQ -> "Delete I/O CQ";
      case ADMIN_CREATE_CQ -> "Create I/O CQ";
      case ADMIN_IDENTIFY -> "Identify";
      case ADMIN_ABORT -> "Abort";
      case ADMIN_SET_FEATURES -> "Set Features";
      case ADMIN_GET_FEATURES -> "Get Features";
      case ADMIN_ASYNC_EVENT_REQUEST -> "Asynchronous Event Request";
      case ADMIN_NS_ATTACHMENT -> "Namespace Attachment";
      case ADMIN_VIRTUALIZATION_MANAGEMENT -> "Virtualization Management";
      case ADMIN_DOORBELL_BUFFER_CONFIG -> "Doorbell Buffer Config";
      case ADMIN_FORMAT_NVM -> "Format NVM";
      default -> String.format("Admin 0x%02x", opcode);
    };
  }

  /** The name of NVM command {@code opcode}: {@code "Read"}, or {@code "I/O 0x42"}. */
  public static String ioName(int opcode) {
    return switch (opcode) {
      case IO_FLUSH -> "Flush";
      case IO_WRITE -> "Write";
      case IO_READ -> "Read";
      case IO_COMPARE -> "Compare";
      case IO_WRITE_ZEROES -> "Write Zeroes";
      case IO_DATASET_MANAGEMENT -> "Dataset Management";
      case IO_VERIFY -> "Verify";
      case IO_COPY -> "Copy";
      default -> String.format("I/O 0x%02x", opcode);
    };
  }
}
